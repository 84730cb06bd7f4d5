"""The one bridge between the GUI thread and background work.

Every call into ``desktop.services`` from ``ui/`` goes through :func:`run_in_background`:

* ``fn`` runs on a worker of a :class:`QThreadPool`. **Never touch a widget inside ``fn``**, and
  never return ORM objects from it — services already return frozen dataclasses.
* ``on_success(result)`` / ``on_error(exc)`` run later on the GUI thread (queued through a relay
  QObject that lives on the GUI thread), so they may update widgets freely.
* Named pools, each created on first use (:func:`pool`):

  - ``database`` (the default): one worker (Anki's one-worker collection executor): jobs run in
    submission order, SQLite never sees two writers from this process, and a fast typist's
    searches cannot overtake each other;
  - ``long``: one worker for long work (exports, league-wide lists, PDF rendering, the self-test),
    so it never queues the clerk's searches behind it (:mod:`ui.long_task`);
  - ``devices``: opening a camera, decoding a QR frame, printing a PDF, preloading the resident
    screen's modules — work that must neither wait behind nor hold up the database (two workers:
    a webcam probe may take seconds);
  - ``sync``: one worker for the sync with the central database (:mod:`ui.widgets.sync_status`):
    one attempt at a time, and a slow or unreachable network never delays a search or an export.

  The ID-card reader has its own device thread (:class:`desktop.devices.io_thread.DeviceIOThread`
  behind :class:`ui.reader_bridge.ReaderBridge`); the face models load through
  :class:`desktop.counter.station.FaceModels` (a future); a camera loop runs through :func:`stream`.
* If ``owner`` (a QObject, usually the page) is deleted before the job finishes, the callbacks are
  skipped instead of touching a dead widget.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

POOL_SIZES = {"database": 1, "long": 1, "devices": 2, "sync": 1}
_pools: dict[str, QThreadPool] = {}
_pending: set["_Relay"] = set()  # keeps relays alive until their callback has run


def pool(name: str = "database") -> QThreadPool:
    """One of the named pools (``database``, ``long``, ``devices``, ``sync``), created on first use."""
    p = _pools.get(name)
    if p is None:
        p = _pools[name] = QThreadPool()
        p.setMaxThreadCount(POOL_SIZES[name])
        p.setExpiryTimeout(2000)
    return p


def db_pool() -> QThreadPool:
    """The single-worker pool for database work."""
    return pool("database")


def long_pool() -> QThreadPool:
    """The single-worker pool for long work."""
    return pool("long")


def device_pool() -> QThreadPool:
    """Opening devices and sending print jobs."""
    return pool("devices")


def sync_pool() -> QThreadPool:
    """The single-worker pool for syncing with the central database."""
    return pool("sync")


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


def wait_for_idle(timeout_ms: int = 10_000, name: str = "database") -> bool:
    """Block until a pool's queued jobs have finished (shutdown and tests only, never in a page)."""
    return _pools[name].waitForDone(timeout_ms) if name in _pools else True


class Stream(QObject):
    """A loop on a thread of its own whose items arrive on the GUI thread, e.g. a face check
    feeding camera frames to its session (:func:`desktop.counter.stream.feed_newest`).

    ``loop(emit, running)`` runs on the thread: it calls ``emit(item)`` for each result and
    returns once ``running()`` is False. ``item_ready`` and ``finished`` are delivered on the GUI
    thread. Never touch a widget inside ``loop``."""

    item_ready = Signal(object)
    finished = Signal()

    def __init__(self, loop: Callable[[Callable[[Any], None], Callable[[], bool]], Any], *, name: str = "stream"):
        super().__init__()
        import threading

        self._loop = loop
        self._running = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "Stream":
        self._thread.start()
        return self

    def _run(self) -> None:  # the stream's thread
        try:
            self._loop(self.item_ready.emit, lambda: self._running)
        except BaseException:  # noqa: BLE001 - the owner hears "finished" either way
            log.error("stream failed: %s", traceback.format_exc())
        finally:
            self.finished.emit()

    def stop(self) -> None:
        """Ask the loop to end (it checks ``running()`` between items); returns at once."""
        self._running = False

    def wait(self, timeout: float = 5.0) -> bool:
        """Join the thread (shutdown and tests)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def stream(loop, on_item: Callable[[Any], None], on_finished: Callable[[], None], *, name: str = "stream") -> Stream:
    """Start ``loop`` (see :class:`Stream`) with its items and its end delivered to the GUI thread."""
    s = Stream(loop, name=name)
    s.item_ready.connect(on_item, Qt.ConnectionType.QueuedConnection)
    s.finished.connect(on_finished, Qt.ConnectionType.QueuedConnection)
    return s.start()


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
