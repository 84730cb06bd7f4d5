"""The simulated reader for demo mode and tests (refuses to exist in production).

It produces the real 30 01 reply bytes for the card "on" it and parses them with the real codec
and parser, so the demo exercises the same path as a counter. Control methods are thread-safe
(the demo UI calls them from the GUI thread while the session polls on the device thread).
"""

from __future__ import annotations

import threading
import time

from desktop.devices.base import (
    MSG_READ_FAILED,
    CardReader,
    CardReadError,
    DeviceInfo,
    ReaderDisconnected,
    ReaderNotFound,
)
from desktop.devices.idcard import codec, parser, samples
from desktop.devices.idcard.model import IdCard
from desktop.devices.idcard.samples import CardSpec
from desktop.platform.runmode import require_simulation_allowed

SIM_SAM_ID = "05.01-20101129-0001228293-0296863149"


class SimulatedReader(CardReader):
    driver = "simulated"

    def __init__(self, cards: list[CardSpec] | None = None, *, read_delay: float = 0.05) -> None:
        require_simulation_allowed("SimulatedReader")
        self.cards = list(cards if cards is not None else samples.demo_cards())
        self.read_delay = read_delay
        self._lock = threading.Lock()
        self._card: CardSpec | None = None
        self._plugged = True
        self._open = False
        self._fail_next_read = False

    # -------------------------------------------------------------- control (any thread)
    def place_card(self, card: CardSpec | int = 0) -> CardSpec:
        spec = self.cards[card] if isinstance(card, int) else card
        with self._lock:
            self._card = spec
        return spec

    def remove_card(self) -> None:
        with self._lock:
            self._card = None

    def fail_next_read(self) -> None:
        with self._lock:
            self._fail_next_read = True

    def unplug(self) -> None:
        with self._lock:
            self._plugged = False

    def plug(self) -> None:
        with self._lock:
            self._plugged = True

    # -------------------------------------------------------------- CardReader
    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> DeviceInfo:
        with self._lock:
            if not self._plugged:
                raise ReaderNotFound("未找到读卡器（模拟读卡器已拔出）")
        self._open = True
        return DeviceInfo(self.driver, "sim", "模拟读卡器（仅演示/测试）", SIM_SAM_ID)

    def close(self) -> None:
        self._open = False

    def _state(self) -> CardSpec | None:
        with self._lock:
            if not self._open:
                raise ReaderDisconnected("读卡器未连接")
            if not self._plugged:
                self._open = False
                raise ReaderDisconnected("读卡器连接已断开（模拟）")
            return self._card

    def find_card(self) -> bool:
        return self._state() is not None

    def read_card(self) -> IdCard:
        spec = self._state()
        time.sleep(self.read_delay)
        with self._lock:
            fail, self._fail_next_read = self._fail_next_read, False
        spec_now = self._state()  # unplugged or removed during the "line time"?
        if fail or spec is None or spec_now is not spec:
            raise CardReadError(MSG_READ_FAILED)
        reply = codec.parse_reply(samples.build_read_reply(spec))
        return parser.parse_read_data(reply.data, fingerprint=False, source=self.driver)
