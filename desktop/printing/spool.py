"""Send a finished PDF to the operating system's print queue — Qt-free; every printout of the app
(counter receipt, assist forms, envelope labels) goes through :func:`send_pdf`.

The vector PDF goes to the queue as it is, never rasterised (architecture.md, "Decisions already
measured"):

- Linux/macOS: CUPS ``lp`` (``-d PRINTER`` when a printer is named, otherwise the system default);
  the job id is parsed from ``lp``'s "request id is …" line.
- Windows: the shell's print verb of the default PDF application (``printto`` with a printer name,
  ``print`` for the default printer). The shell gives no job id: an empty string is returned.

The printer name is this workstation's setting (``StationSettings.get("printer_name")``, empty =
system default); callers pass it in, so this module stays independent of the services.
Errors are raised as :class:`PrintError` with a Chinese message for the clerk.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from desktop.errors import UserFacingError

LP_TIMEOUT = 20.0  # seconds; lp only hands the file to the spooler
_JOB_RE = re.compile(r"request id is (\S+)")


class PrintError(UserFacingError):
    code = "print_error"


def _windows() -> bool:
    return sys.platform.startswith("win")


def queue_available() -> bool:
    """Whether this machine has a system print queue to send PDFs to (else: QPrinter fallback)."""
    return _windows() or shutil.which("lp") is not None


def printer_label(printer: str | None) -> str:
    return f"“{printer}”" if printer else "（系统默认打印机）"


def require_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path when it is a file to print; else :class:`PrintError` (in Chinese)."""
    p = Path(path)
    if not p.is_file():
        raise PrintError("找不到要打印的文件", code="print_file_missing")
    return p


def send_pdf(path: str | os.PathLike, printer: str | None = None, *, copies: int = 1,
             title: str | None = None, timeout: float = LP_TIMEOUT) -> str:
    """Queue ``path`` (a PDF) on ``printer`` (None/"" = the system default). Returns the job id
    (``""`` when the system gives none). Raises :class:`PrintError`."""
    p = require_file(path)
    printer = (printer or "").strip() or None
    copies = max(1, int(copies))
    if _windows():
        return _send_windows(p, printer, copies)
    lp = shutil.which("lp")
    if lp is None:
        raise PrintError("本机没有系统打印队列（找不到 lp 命令）。请安装并配置 CUPS，或先“另存为 PDF”再打印",
                         code="no_print_queue")
    cmd = [lp]
    if printer:
        cmd += ["-d", printer]
    if copies > 1:
        cmd += ["-n", str(copies)]
    if title:
        cmd += ["-t", title]
    cmd.append(str(p))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise PrintError("打印队列没有响应，请检查打印服务（CUPS）是否在运行", code="print_timeout") from None
    except OSError as exc:
        raise PrintError(f"无法启动打印命令：{exc.strerror or exc}", code="print_failed") from None
    if done.returncode != 0:
        raise PrintError(_lp_error_zh(done.stderr or done.stdout or "", printer), code="print_refused",
                         detail=(done.stderr or "").strip()[:300])
    m = _JOB_RE.search(done.stdout or "")
    return m.group(1) if m else ""


def _lp_error_zh(message: str, printer: str | None) -> str:
    low = message.lower()
    if "does not exist" in low or "unknown destination" in low or "not found" in low:
        return f"找不到打印机{printer_label(printer)}，请在“本机设置”中检查打印机名称"
    if "no default destination" in low or "no default printer" in low:
        return "本机没有设置默认打印机，请在“本机设置”中填写打印机名称或在系统中设置默认打印机"
    if "not accepting" in low or "disabled" in low or "paused" in low:
        return f"打印机{printer_label(printer)}暂停或不接受打印任务，请检查打印机状态"
    detail = message.strip().splitlines()[-1][:160] if message.strip() else "未知原因"
    return f"打印队列拒绝了任务（{detail}）"


def _send_windows(p: Path, printer: str | None, copies: int) -> str:  # pragma: no cover - Windows only
    try:
        for _ in range(copies):
            if printer:
                os.startfile(str(p), "printto", f'"{printer}"')  # type: ignore[attr-defined]  # noqa: S606
            else:
                os.startfile(str(p), "print")  # type: ignore[attr-defined]  # noqa: S606
    except OSError:
        raise PrintError("本机没有可以打印 PDF 的程序，请安装 PDF 阅读器或先“另存为 PDF”", code="no_pdf_handler") from None
    return ""
