"""Log files without personal data.

Rotating files in ``paths.log_dir()``. A filter on the handler rewrites every record: ID numbers
(18 characters, also spaced) are masked as ``152202********1234``, phone numbers shortened, and
arguments that are bytes (frames, images, card payloads) replaced by their length. Modules log
with ``logging.getLogger(__name__)``; nobody needs to remember to mask.
"""

from __future__ import annotations

import logging
import logging.handlers
import re

from desktop.platform import paths

_ID = re.compile(r"(?<![0-9])([1-9][0-9]{5})[ ]?([0-9]{4}[ ]?[0-9]{4}[ ]?[0-9]{0,3})([0-9]{3}[0-9Xx])(?![0-9])")
_ID15 = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{6})([0-9]{3})(?![0-9])")
_PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


def redact(text: str) -> str:
    text = _ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[-4:], text)
    text = _PHONE.sub(r"\1****\2", text)
    return _ID15.sub(lambda m: m.group(1) + "*" * 6 + m.group(3), text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(f"<{len(a)} bytes>" if isinstance(a, (bytes, bytearray, memoryview)) else a for a in args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not kill logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup_logging(level: int = logging.INFO, filename: str = "certdesk.log") -> logging.Handler:
    handler = logging.handlers.RotatingFileHandler(paths.log_dir() / filename, maxBytes=5_000_000, backupCount=5,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.setLevel(level)
    for old in [h for h in root.handlers if getattr(h, "_certdesk", False)]:
        root.removeHandler(old)
    handler._certdesk = True
    root.addHandler(handler)
    return handler
