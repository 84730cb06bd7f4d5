"""Serial transport for the SAM protocol (pyserial, 115200 8N1 by default).

``transact()`` sends one request and reassembles the reply however the port delivers it (a
1295-byte reply arrives in many pieces), skipping noise before the preamble. A bad checksum or
a silent reader triggers a resend (``retries``); an OS-level port error means the reader is
gone (:class:`ReaderDisconnected`). Only this module and the drivers import ``serial``.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import serial

from desktop.devices.base import ReaderDisconnected, ReaderNotFound, ReaderTimeout
from desktop.devices.idcard import codec

log = logging.getLogger(__name__)

try:  # POSIX: tcflush/tcsetattr on a vanished tty raise termios.error, not OSError
    import termios

    PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - Windows
    PORT_ERRORS = (serial.SerialException, OSError)

BAUD_RATES = (115200, 57600, 38400, 19200, 9600)


class SerialTransport:
    """Owns one pyserial port. Not thread-safe: used from the device-I/O thread only."""

    def __init__(self, port: str, baudrate: int = 115200, *,
                 serial_factory: Callable[..., serial.Serial] | None = None,
                 read_slice: float = 0.02) -> None:
        self.port = port
        self.baudrate = baudrate
        self._factory = serial_factory or serial.Serial
        self._read_slice = read_slice
        self._ser: serial.Serial | None = None
        self._decoder = codec.FrameDecoder()
        self.stats = {"noise_bytes": 0, "bad_checksums": 0, "timeouts": 0, "resends": 0}

    @property
    def is_open(self) -> bool:
        return self._ser is not None

    def open(self) -> None:
        if self._ser is not None:
            return
        try:
            self._ser = self._factory(
                self.port, self.baudrate, bytesize=8, parity="N", stopbits=1,
                timeout=self._read_slice, write_timeout=1.0,
            )
        except PORT_ERRORS + (ValueError,) as exc:
            raise ReaderNotFound(f"无法打开读卡器端口 {self.port}", port=self.port, detail=str(exc)) from None
        self._decoder.clear()

    def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except Exception:  # closing a vanished port may fail; it is closed either way
                pass

    def _lost(self, exc: BaseException) -> ReaderDisconnected:
        self.close()
        return ReaderDisconnected(
            f"读卡器连接已断开（{self.port}），请检查读卡器连接线", port=self.port, detail=str(exc)
        )

    def _send(self, frame: bytes) -> None:
        assert self._ser is not None
        try:
            self._ser.reset_input_buffer()
            self._decoder.clear()
            self._ser.write(frame)
            self._ser.flush()
        except PORT_ERRORS as exc:
            raise self._lost(exc) from None

    def _receive(self, deadline: float) -> bytes | None:
        """Reassemble one frame before ``deadline``; None on timeout. Raises BadChecksum."""
        assert self._ser is not None
        while True:
            before = self._decoder.discarded
            frame = self._decoder.next_frame()
            self.stats["noise_bytes"] += self._decoder.discarded - before
            if frame is not None:
                return frame
            if time.monotonic() >= deadline:
                return None
            try:
                waiting = self._ser.in_waiting
                untrusted_chunk = self._ser.read(max(1, min(waiting, 4096)))
            except PORT_ERRORS as exc:
                raise self._lost(exc) from None
            if untrusted_chunk:
                self._decoder.feed(untrusted_chunk)

    def transact(self, cmd: int, para: int, data: bytes = b"", *, timeout: float = 1.0,
                 retries: int = 1) -> codec.Reply:
        """One command → its reply. Resends on a bad checksum or silence, ``retries`` times."""
        if self._ser is None:
            raise ReaderDisconnected("读卡器端口未打开")
        request = codec.build_request(cmd, para, data)
        name = codec.COMMAND_NAMES.get((cmd, para), f"{cmd:02x} {para:02x}")
        last: str = "timeout"
        for attempt in range(retries + 1):
            if attempt:
                self.stats["resends"] += 1
            self._send(request)
            try:
                frame = self._receive(time.monotonic() + timeout)
            except codec.BadChecksum:
                self.stats["bad_checksums"] += 1
                log.warning("%s: reply with bad checksum (attempt %d)", name, attempt + 1)
                last = "checksum"
                continue
            if frame is None:
                self.stats["timeouts"] += 1
                last = "timeout"
                continue
            reply = codec.parse_reply(frame)
            if reply.sw1 or reply.sw2:
                log.debug("%s: SW1/SW2 = %02x %02x", name, reply.sw1, reply.sw2)
            return reply
        if last == "checksum":
            raise codec.BadChecksum(f"读卡器应答校验错误（{name}），已重试 {retries} 次")
        raise ReaderTimeout(f"读卡器无应答（{name}，{timeout:.1f} 秒）", port=self.port)
