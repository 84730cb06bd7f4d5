"""Qt bridge for an ID-card reader: device I/O on its own thread, events on the GUI thread.

Usage from a page (the composition root builds the session from settings)::

    from desktop.devices.registry import ReaderConfig, build_session
    bridge = ReaderBridge(lambda sink: build_session(ReaderConfig(driver="simulated"), sink))
    bridge.card_read.connect(page.show_card)        # receives a frozen IdCard
    bridge.reader_lost.connect(page.show_reader_message)   # str: message in Chinese
    bridge.start()
    ...
    bridge.stop()   # returns at once; the device thread ends after its current exchange

Thread contract: the session (and its reader) live on a
:class:`~desktop.devices.io_thread.DeviceIOThread`. Its sink only emits a private signal; Qt
queues it to this object's (GUI) thread, where the public past-tense signals are emitted. The
GUI thread never calls the device and never waits on it.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from desktop.devices.base import (
    CardPlaced,
    CardRead,
    CardRemoved,
    ReaderEvent,
    ReaderFound,
    ReaderLost,
    ReadFailed,
)
from desktop.devices.io_thread import DeviceIOThread
from desktop.errors import DeviceError

SessionFactory = Callable[[Callable[[ReaderEvent], None]], object]  # sink -> session with step()/close()


class ReaderBridge(QObject):
    card_placed = Signal()
    card_read = Signal(object)  # desktop.devices.idcard.model.IdCard (frozen)
    card_removed = Signal()
    reader_lost = Signal(str)  # message_zh
    reader_found = Signal(object)  # desktop.devices.base.DeviceInfo (frozen)
    read_failed = Signal(str)  # message_zh

    _event_arrived = Signal(object)  # device thread -> GUI thread (queued)

    def __init__(self, session_factory: SessionFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = session_factory
        self._io: DeviceIOThread | None = None
        self.session = None
        self.last_event: ReaderEvent | None = None
        self._event_arrived.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self._io is not None and self._io.running

    RETRY_SECONDS = 3.0  # how often to look for a reader that was absent

    def start(self) -> None:
        """Start the device thread, which builds the session (port probing, vendor libraries:
        never on the GUI thread). A reader that is not there is not an error: ``reader_lost``
        says so once, the thread keeps looking every few seconds, and ``reader_found`` follows
        when one is plugged in. ``session`` is set once built (after ``reader_found``)."""
        if self.running:
            return
        self._missing_announced = False
        self._io = DeviceIOThread(self._step, name="idcard-reader", on_exit=self._close)
        self._io.start()

    def _step(self) -> float:
        # device thread
        if self.session is None:
            try:
                self.session = self._factory(self._event_arrived.emit)
            except DeviceError as exc:
                if not self._missing_announced:
                    self._missing_announced = True
                    self._event_arrived.emit(ReaderLost(exc.code, exc.message_zh))
                return self.RETRY_SECONDS
            return 0.0
        return self.session.step()

    def _close(self) -> None:
        # device thread
        if self.session is not None:
            self.session.close()

    def stop(self) -> None:
        """Non-blocking: the device thread closes the reader after its current exchange."""
        if self._io is not None:
            self._io.stop()

    def wait(self, timeout: float = 5.0) -> bool:
        """Join the device thread (application shutdown, tests). Not for normal GUI use."""
        return self._io.join(timeout) if self._io is not None else True

    def submit(self, fn: Callable, *args):
        """Run ``fn`` on the device thread (e.g. a simulated reader's ``place_card``)."""
        if self._io is None:
            raise RuntimeError("reader bridge not started")
        return self._io.submit(fn, *args)

    @Slot(object)
    def _dispatch(self, event: ReaderEvent) -> None:
        self.last_event = event
        if isinstance(event, CardRead):
            self.card_read.emit(event.card)
        elif isinstance(event, CardPlaced):
            self.card_placed.emit()
        elif isinstance(event, CardRemoved):
            self.card_removed.emit()
        elif isinstance(event, ReaderLost):
            self.reader_lost.emit(event.message_zh)
        elif isinstance(event, ReaderFound):
            self.reader_found.emit(event.info)
        elif isinstance(event, ReadFailed):
            self.read_failed.emit(event.message_zh)
