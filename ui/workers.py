"""The one bridge between the GUI thread and background work.

Every call into ``desktop.services`` from ``ui/`` goes through :func:`run_in_background`:

* ``fn`` runs on a worker of a :class:`QThreadPool`. **Never touch a widget inside ``fn``**, and
  never return ORM objects from it — services already return frozen dataclasses.
* ``on_success(result)`` / ``on_error(exc)`` run later on the GUI thread (queued through a relay
  QObject that lives on the GUI thread), so they may update widgets freely.
* Database work uses one pool with a single worker (Anki's one-worker collection executor): jobs
  run in submission order, SQLite never sees two writers from this process, and a fast typist's
  searches cannot overtake each other.
* If ``owner`` (a QObject, usually the page) is deleted before the job finishes, the callbacks are
  skipped instead of touching a dead widget.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

_db_pool: QThreadPool | None = None
_pending: set["_Relay"] = set()  # keeps relays alive until their callback has run


def db_pool() -> QThreadPool:
    """The single-worker pool for database work (created on first use)."""
    global _db_pool
    if _db_pool is None:
        _db_pool = QThreadPool()
        _db_pool.setMaxThreadCount(1)
        _db_pool.setExpiryTimeout(2000)
    return _db_pool


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits, Qt queues the call to this thread."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, on_success, on_error, owner: QObject | None):
        super().__init__()
        self._on_success = on_success
        self._on_error = on_error
        self._owner = owner
        self.succeeded.connect(self._deliver_success)
        self.failed.connect(self._deliver_error)

    def _owner_gone(self) -> bool:
        return self._owner is not None and not shiboken6.isValid(self._owner)

    @Slot(object)
    def _deliver_success(self, result: Any) -> None:
        _pending.discard(self)
        if self._on_success is not None and not self._owner_gone():
            self._on_success(result)

    @Slot(object)
    def _deliver_error(self, exc: BaseException) -> None:
        _pending.discard(self)
        if self._owner_gone():
            return
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.error("background job failed: %s", "".join(traceback.format_exception(exc)))


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay

    def run(self) -> None:  # worker thread: no widgets here
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - reported on the GUI thread
            self._relay.failed.emit(exc)
        else:
            self._relay.succeeded.emit(result)


def run_in_background(
    fn: Callable[[], Any],
    on_success: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    *,
    owner: QObject | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``fn()`` off the GUI thread; deliver its result or exception on the GUI thread.

    Must be called from the GUI thread. ``fn`` must not touch widgets.
    """
    relay = _Relay(on_success, on_error, owner)
    _pending.add(relay)
    (pool or db_pool()).start(_Job(fn, relay))


def wait_for_idle(timeout_ms: int = 10_000) -> bool:
    """Block until queued jobs have finished (shutdown and tests only, never in a page)."""
    return db_pool().waitForDone(timeout_ms) if _db_pool is not None else True


def pending_jobs() -> int:
    """Jobs whose callbacks have not been delivered yet."""
    return len(_pending)


class _ProgressRelay(QObject):
    reported = Signal(object, str)

    def __init__(self, on_progress):
        super().__init__()
        self._on_progress = on_progress
        self.reported.connect(self._deliver)

    @Slot(object, str)
    def _deliver(self, pct, text: str) -> None:
        self._on_progress(pct, text)


def progress_reporter(on_progress: Callable[[int | None, str], None]) -> Callable[[int | None, str], None]:
    """A callable that background code may call as ``report(percent, text)``.

    Created on the GUI thread; each call is queued to ``on_progress`` on the GUI thread.
    """
    relay = _ProgressRelay(on_progress)
    _keep.append(relay)

    def report(pct: int | None, text: str) -> None:
        relay.reported.emit(pct, text)

    return report


_keep: list[QObject] = []
