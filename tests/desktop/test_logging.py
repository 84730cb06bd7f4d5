"""No personal data in log files."""

from __future__ import annotations

import logging

from desktop.platform import paths
from desktop.platform.logging_setup import redact, setup_logging


def test_redact_masks_id_numbers_and_phones():
    assert redact("读卡 152202194009012240 成功") == "读卡 152202********2240 成功"
    assert redact("id=15220219540505026X.") == "id=152202********026X."
    assert redact("电话13928728463") == "电话139****8463"
    assert redact("seq 20260315 amount 1500") == "seq 20260315 amount 1500"


def test_log_file_contains_no_id_numbers_or_image_bytes():
    handler = setup_logging()
    log = logging.getLogger("certdesk.test")
    log.info("card read for %s", "152202194009012240")
    log.warning("frame %r", b"\x89PNG\r\n\x1a\n" + b"secret-face-pixels")
    try:
        raise ValueError("bad number 15220219540505026X")
    except ValueError:
        log.exception("import failed")
    handler.flush()
    text = (paths.log_dir() / "certdesk.log").read_text(encoding="utf-8")
    assert "152202194009012240" not in text and "15220219540505026X" not in text
    assert "152202********2240" in text
    assert "secret-face-pixels" not in text and "bytes>" in text
    assert "ValueError" in text
    logging.getLogger().removeHandler(handler)
