"""启动自检: the start-up self-test of the window (issue 10).

Two hooks, called by ``ui/app.py``:

* :func:`add_bundled_fonts` (from ``setup_application``) when the system has no CJK family: the
  font that comes with CertDesk in ``resources/fonts`` becomes available to Qt, so a field laptop
  without a Chinese font still shows Chinese (``choose_font_family`` then finds "WenQuanYi Micro Hei");
* :func:`attach` once the main window exists: when the window has its database
  (``backend_ready``), :func:`desktop.selftest.run_selftest` runs on a worker of its own pool
  (it must not delay opening the database, nor queue in front of the clerk's first search), and
  any failure is shown in a non-modal :class:`SelfTestDialog`: the counter keeps working with
  what still works (manual entry, clerk's check), and nothing ever fails silently.

The report is also written to ``logs/selftest-last.json`` for IT staff.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from desktop.platform import paths
from desktop.selftest import ERROR, SelfTestReport, run_selftest, save_report
from ui.workers import run_in_background

log = logging.getLogger(__name__)



def add_bundled_fonts() -> list[str]:
    """Register ``resources/fonts/*.ttf|ttc`` with Qt; returns the families added."""
    from PySide6.QtGui import QFontDatabase

    folder = paths.resource_path("fonts")
    families: list[str] = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".ttf", ".ttc"):
                font_id = QFontDatabase.addApplicationFont(str(path))
                if font_id >= 0:
                    families += QFontDatabase.applicationFontFamilies(font_id)
    return families


class SelfTestDialog(QDialog):
    """Lists the failed checks, errors first, in large type; closes with 知道了."""

    def __init__(self, report: SelfTestReport, parent=None):
        super().__init__(parent)
        self.setObjectName("selfTestDialog")
        self.setWindowTitle("启动自检")
        self.report = report
        layout = QVBoxLayout(self)
        if report.errors:
            head = "本机自检发现问题，部分功能暂不可用："
        else:
            head = "本机自检提示："
        title = QLabel(head, self)
        title.setObjectName("selfTestTitle")
        layout.addWidget(title)
        self.rows: list[QLabel] = []
        for check in report.problems:
            mark = "✖" if check.severity == ERROR else "⚠"
            row = QLabel(f"{mark} {check.title_zh}：{check.message_zh}", self)
            row.setWordWrap(True)
            row.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row.setProperty("severity", check.severity)
            layout.addWidget(row)
            self.rows.append(row)
        hint = QLabel(f"详细结果已保存到：{paths.log_dir() / 'selftest-last.json'}\n"
                      "技术人员可运行 certdesk-cli selftest 复查。", self)
        hint.setWordWrap(True)
        hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("知道了")
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)


def _selftest_pool():
    """The self-test runs on the long-work pool (ui.workers); never left running into shutdown."""
    from ui.workers import long_pool

    pool = long_pool()
    app = QApplication.instance()
    if app is not None and not getattr(app, "_selftest_wait", False):
        app._selftest_wait = True
        app.aboutToQuit.connect(lambda: pool.waitForDone(15_000))
    return pool


def show_report(report: SelfTestReport, parent=None) -> SelfTestDialog | None:
    """Log the result; show the dialog when something failed. Returns the dialog, if shown."""
    if not report.problems:
        log.info("self-test passed in %.2f s", report.seconds)
        return None
    for check in report.problems:
        log.warning("self-test %s %s: %s (%s)", check.severity, check.key, check.message_zh, check.detail)
    if sys.stderr is not None:  # the windowed Windows build has no stderr
        print("selftest: " + report.summary_zh(), file=sys.stderr)
    dialog = SelfTestDialog(report, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setModal(False)  # the window stays usable: manual entry still works
    dialog.show()
    if parent is not None:  # out of the way of the login dialog, which sits in the centre
        dialog.adjustSize()
        frame = parent.frameGeometry()
        dialog.move(max(frame.left(), frame.right() - dialog.width() - 40),
                    max(frame.top(), frame.bottom() - dialog.height() - 60))
    return dialog


def start(window, db_url: str | None, demo: bool) -> None:
    """Run the self-test off the GUI thread now; report into ``window``."""

    def failed(exc: BaseException) -> None:  # run_selftest never raises; belt and braces
        log.error("self-test crashed: %r", exc)

    def work() -> SelfTestReport:  # worker thread: no widgets here
        report = run_selftest(db_url=db_url, demo=demo)
        save_report(report)  # kept even when the app quits before the result is shown
        return report

    run_in_background(work,
                      lambda report: show_report(report, window), failed,
                      owner=window, pool=_selftest_pool())


FALLBACK_MS = 10_000  # the database is slow or failed to open (show_fatal): test anyway


def attach(window, db_url: str | None, demo: bool) -> None:
    """Start the self-test once ``window`` has opened its database (``backend_ready``), or after
    :data:`FALLBACK_MS` if it has not by then; once."""
    from PySide6.QtCore import QTimer

    started = {"done": False}

    def once() -> None:
        if not started["done"]:
            started["done"] = True
            start(window, db_url, demo)

    window.backend_ready.connect(once)
    QTimer.singleShot(FALLBACK_MS, window, once)
