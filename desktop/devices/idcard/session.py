"""The reader session: the polling state machine of docs/idcard-protocol.md §1.7.

    DISCONNECTED --open ok--> IDLE --find 9F--> READING --read 90--> PRESENT --find 80--> IDLE
         ^                                         | read failed: back off, IDLE (or PRESENT
         +------------- port lost / repeated silence --------------+  after max_read_attempts)

Each :meth:`step` does one device exchange and returns how long to wait before the next; the
device-I/O thread (:mod:`desktop.devices.io_thread`) calls it in a loop. Events go to ``sink``
(frozen :class:`~desktop.devices.base.ReaderEvent` objects), which is called on the device
thread and must only hand them over (e.g. a queued Qt signal), never block.
"""

from __future__ import annotations

import logging
from typing import Callable

from desktop.devices.base import (
    MSG_READER_LOST,
    CardPlaced,
    CardRead,
    CardReader,
    CardReadError,
    CardRemoved,
    ReaderDisconnected,
    ReaderError,
    ReaderEvent,
    ReaderFound,
    ReaderLost,
    ReaderTimeout,
    ReadFailed,
)
from desktop.devices.idcard.photo import PhotoDecoder, attach_photo

log = logging.getLogger(__name__)

DISCONNECTED, IDLE, READING, PRESENT = "disconnected", "idle", "reading", "present"


class ReaderSession:
    def __init__(self, reader: CardReader, sink: Callable[[ReaderEvent], None], *,
                 photo_decoder: PhotoDecoder | None = None, poll_interval: float = 0.3,
                 reconnect_interval: float = 1.0, failure_backoff: float = 0.5,
                 lost_after_timeouts: int = 3, max_read_attempts: int = 3) -> None:
        self.reader = reader
        self._sink = sink
        self.photo_decoder = photo_decoder
        self.poll_interval = poll_interval
        self.reconnect_interval = reconnect_interval
        self.failure_backoff = failure_backoff
        self.lost_after_timeouts = lost_after_timeouts
        self.max_read_attempts = max_read_attempts
        self.state = DISCONNECTED
        self._lost_announced = False
        self._timeouts = 0
        self._read_failures = 0

    def _emit(self, event: ReaderEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken consumer must not kill the device loop
            log.exception("reader event sink failed for %s", type(event).__name__)

    def step(self) -> float:
        if self.state == DISCONNECTED:
            return self._connect()
        try:
            if self.state == IDLE:
                present = self.reader.find_card()
                self._timeouts = 0
                if present:
                    self.state = READING
                    self._emit(CardPlaced())
                    return 0.0
                return self.poll_interval
            if self.state == READING:
                return self._read()
            # PRESENT: the card stays until find answers "no card"
            present = self.reader.find_card()
            self._timeouts = 0
            if not present:
                self.state = IDLE
                self._read_failures = 0
                self._emit(CardRemoved())
            return self.poll_interval
        except ReaderDisconnected as exc:
            return self._lose(exc.code, exc)
        except ReaderTimeout as exc:
            self._timeouts += 1
            log.info("reader timeout %d/%d", self._timeouts, self.lost_after_timeouts)
            if self._timeouts >= self.lost_after_timeouts:
                return self._lose("reader_lost", exc)
            return self.failure_backoff
        except ReaderError as exc:  # SAM status / framing problems while polling
            log.warning("reader error in %s: %s", self.state, exc.code)
            return self.failure_backoff
        except Exception as exc:  # driver bug or vendor library failure: start over cleanly
            log.exception("unexpected reader failure")
            return self._lose("reader_error", exc)

    def _connect(self) -> float:
        try:
            info = self.reader.open()
        except ReaderError as exc:
            if not self._lost_announced:
                self._lost_announced = True
                self._emit(ReaderLost(exc.code, f"未找到读卡器：{exc.message_zh}"))
            return self.reconnect_interval
        except Exception as exc:
            log.exception("reader open failed")
            if not self._lost_announced:
                self._lost_announced = True
                self._emit(ReaderLost("reader_error", f"读卡器打开失败（{type(exc).__name__}）"))
            return self.reconnect_interval
        self._lost_announced = False
        self._timeouts = 0
        self._read_failures = 0
        self.state = IDLE
        self._emit(ReaderFound(info))
        return 0.0

    def _read(self) -> float:
        try:
            card = self.reader.read_card()
        except CardReadError as exc:
            self._read_failures += 1
            self._emit(ReadFailed(exc.code, exc.message_zh))
            # retry while the card is still there, but not forever
            self.state = PRESENT if self._read_failures >= self.max_read_attempts else IDLE
            return self.failure_backoff
        self._read_failures = 0
        self.state = PRESENT
        self._emit(CardRead(attach_photo(card, self.photo_decoder)))
        log.info("card read: %r", card)  # IdCard.__repr__ masks the number and hides the name
        return self.poll_interval

    def _lose(self, code: str, exc: BaseException) -> float:
        was_reading = self.state == READING
        self.reader.close()
        self.state = DISCONNECTED
        if was_reading:
            self._emit(ReadFailed(code, MSG_READER_LOST))
        self._lost_announced = True
        self._emit(ReaderLost(code, MSG_READER_LOST))
        log.warning("reader lost (%s): %s", code, type(exc).__name__)
        return self.reconnect_interval

    def close(self) -> None:
        self.reader.close()
        self.state = DISCONNECTED
