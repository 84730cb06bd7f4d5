"""``certdesk demo --drill N --json``: N certifications through the real counter widgets, and when
one fails, which step and why (e.g. the receipt could not be rendered) instead of a bare count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def _drill(tmp_path, n: int, **env_extra):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CERTDESK_HOME=str(tmp_path / "home"), **env_extra)
    env.pop("CERTDESK_MODE", None)  # the command sets demo mode itself
    return subprocess.run([sys.executable, "-m", "ui", "demo", "--drill", str(n), "--json", "--demo-persons", "40",
                           "--db", str(tmp_path / "demo.sqlite")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_drill_certifies_every_resident_with_the_bundled_font(tmp_path):
    r = _drill(tmp_path, 3, CERTDESK_NO_SYSTEM_FONTS="1")  # a machine without a Chinese font
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["certified"] == 3 and out["failed"] == 0 and out["failures"] == [], r.stderr[-3000:]
    assert r.returncode == 0


def test_drill_says_why_a_receipt_could_not_be_rendered(tmp_path):
    r = _drill(tmp_path, 1, CERTDESK_CJK_FONT=str(tmp_path / "missing.ttf"))
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert r.returncode == 1 and out["certified"] == 0 and out["failed"] == 1
    (failure,) = out["failures"]
    assert failure["step"] == "receipt" and "字体" in failure["reason"] and "missing.ttf" in failure["reason"]
    assert "receipt did not finish" in r.stderr
