"""The status-bar widget for sync: 在线 / 离线（自…）/ 待上传 n 条 / 上次同步….

A QTimer polls the Qt-free ``OnlineMonitor``; when an attempt is due, ``SyncService.sync_once``
runs on the named ``sync`` pool of :mod:`ui.workers` (one worker: never the GUI thread, and not the
database worker, so a slow network never delays a search). Back-off and jitter are the monitor's.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from desktop.services.sync import OnlineMonitor
from ui.workers import run_in_background, sync_pool, wait_for_idle

COLORS = {True: "#2e7d32", False: "#c62828", None: "#757575"}


class SyncStatusWidget(QWidget):
    """Mount with ``statusBar().addPermanentWidget(SyncStatusWidget(sync_service))``.

    ``sync_service`` is a ``desktop.services.sync.SyncService`` (or None when no central
    database is configured). Call ``stop()`` before the application quits.
    """

    sync_finished = Signal(object)  # SyncResult
    sync_failed = Signal(str)

    def __init__(self, sync_service, monitor: OnlineMonitor | None = None, *, tick_ms: int = 1000,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.service = sync_service
        self.monitor = monitor or OnlineMonitor()
        self._busy = False

        self.dot = QLabel("●")
        self.label = QLabel()
        self.button = QToolButton()
        self.button.setText("立即同步")
        self.button.setAutoRaise(True)
        self.button.clicked.connect(self.sync_now)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.addWidget(self.dot)
        lay.addWidget(self.label)
        lay.addWidget(self.button)

        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self._tick)
        self._refresh()
        if self.service is not None:
            self.timer.start()

    # --- public ------------------------------------------------------------------------------

    def sync_now(self) -> None:
        """Make the next attempt due now (the 立即同步 button; also after a local change)."""
        self.monitor.poke()
        self._tick()

    def stop(self) -> None:
        self.timer.stop()
        wait_for_idle(30_000, "sync")

    @property
    def busy(self) -> bool:
        return self._busy

    # --- internals ---------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.service is not None and not self._busy and self.monitor.due():
            self._busy = True
            service, monitor = self.service, self.monitor
            run_in_background(lambda: monitor.run_once(service), self._done, self._error, owner=self, pool=sync_pool())
        self._refresh()

    def _done(self, result) -> None:
        self._busy = False
        self._refresh()
        if result is not None:
            self.sync_finished.emit(result)
        elif self.monitor.last_error:
            self.sync_failed.emit(self.monitor.last_error)

    def _error(self, exc: BaseException) -> None:
        self._busy = False
        self._refresh()
        self.sync_failed.emit(type(exc).__name__)

    def _refresh(self) -> None:
        if self.service is None:
            self.dot.setStyleSheet(f"color: {COLORS[None]}")
            self.label.setText("未配置中心数据库（单机运行）")
            self.button.setEnabled(False)
            return
        state = self.monitor.snapshot()
        if self._busy and not state.syncing:  # queued on the worker, not started yet
            state = replace(state, syncing=True)
        self.dot.setStyleSheet(f"color: {COLORS[state.online]}")
        text = state.text_zh()
        if state.online is False and not state.syncing:
            text += f" · {int(state.next_attempt_in)} 秒后重试"
        self.label.setText(text)
        self.setToolTip(state.last_error or "")
        self.button.setEnabled(not state.syncing)
