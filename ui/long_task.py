"""Long work with a progress bar and a Cancel button (a league-wide list, a 100,000-row export).

Built on :mod:`ui.workers` (the one bridge): ``fn(report, cancel)`` runs on a dedicated
single-worker pool, so a long export never queues the clerk's searches behind it; ``report(pct,
text)`` is queued to the GUI thread; ``cancel`` is a :class:`threading.Event` the work polls (the
services take it as ``cancel=``). Never touch a widget inside ``fn``.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ui.workers import long_pool, progress_reporter, run_in_background, wait_for_idle  # noqa: F401


def wait_for_long_tasks(timeout_ms: int = 10_000) -> bool:
    """Shutdown and tests only."""
    return wait_for_idle(timeout_ms, "long")


class LongTask:
    """Handle of one running task: ``cancel()`` asks it to stop at its next check."""

    def __init__(self):
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


def run_long_task(fn: Callable[[Callable, threading.Event], Any], on_success=None, on_error=None, *,
                  on_progress: Callable[[int | None, str], None] | None = None, owner=None) -> LongTask:
    task = LongTask()
    report = progress_reporter(on_progress) if on_progress else (lambda pct, text: None)
    run_in_background(lambda: fn(report, task.cancel_event), on_success, on_error, owner=owner, pool=long_pool())
    return task


class TaskBar(QWidget):
    """A progress bar, its text and a Cancel button; hidden when idle.

    ``bar.start(fn, on_success, on_error)`` runs ``fn(report, cancel)`` through :func:`run_long_task`.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("taskBar")
        self.label = QLabel("", self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setFixedWidth(260)
        self.cancel_button = QPushButton("取消", self)
        self.cancel_button.setObjectName("cancelTask")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        self.task: LongTask | None = None
        self.hide()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(self, fn, on_success, on_error, text: str = "正在处理…") -> LongTask:
        self.label.setText(text)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.show()

        def done(result):
            self._finish()
            on_success(result)

        def failed(exc):
            self._finish()
            on_error(exc)

        self.task = run_long_task(fn, done, failed, on_progress=self._progress, owner=self)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.label.setText("正在取消…")
            self.cancel_button.setEnabled(False)

    def _progress(self, pct, text: str) -> None:
        if self.task is None:
            return
        if pct is not None:
            self.progress.setValue(int(pct))
        self.label.setText(text)

    def _finish(self) -> None:
        self.task = None
        self.hide()
