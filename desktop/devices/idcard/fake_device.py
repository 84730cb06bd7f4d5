"""A fake SAM reader on a pseudo-terminal (demo/test only).

It is a real thread speaking the real byte protocol on the master side of ``os.openpty()``; the
driver opens the slave path with pyserial exactly as it opens ``/dev/ttyUSB0``. Scriptable
faults: fragmented replies, noise before the preamble, bad checksums, no card, a card taken
away mid-read, a mute reader and a dead (unplugged) port; :meth:`replug` brings a new pty back
behind the same symlink path, the way a USB-serial adapter re-enumerates.
"""

from __future__ import annotations

import errno
import os
import random
import select
import threading
import time
import tty

from desktop.devices.idcard import codec, samples
from desktop.devices.idcard.samples import CardSpec
from desktop.platform.runmode import require_simulation_allowed


class FakeSamDevice:
    def __init__(self, link_path: str, *, sam_id: str = "05.01-20101129-0001228293-0296863149",
                 max_chunk: int = 97, chunk_delay: float = 0.0005, seed: int = 1) -> None:
        require_simulation_allowed("FakeSamDevice")
        self.link_path = link_path
        self.sam_id = sam_id
        self.max_chunk = max_chunk
        self.chunk_delay = chunk_delay
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._card: CardSpec | None = None
        self._appended: tuple[str, ...] = ()
        self.noise = b""
        self._corrupt: dict[tuple[int, int] | None, int] = {}
        self._remove_during_read = False
        self.mute = False
        self.requests: list[str] = []
        self._master = self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._plug()

    # ------------------------------------------------------------------ control (any thread)
    @property
    def slave_name(self) -> str:
        return self._slave_name

    def place_card(self, spec: CardSpec, appended: tuple[str, ...] = ()) -> None:
        with self._lock:
            self._card, self._appended = spec, appended

    def remove_card(self) -> None:
        with self._lock:
            self._card = None

    def corrupt_next(self, count: int = 1, command: tuple[int, int] | None = None) -> None:
        """Send the next ``count`` replies (to ``command``, or any) with a wrong checksum."""
        with self._lock:
            self._corrupt[command] = self._corrupt.get(command, 0) + count

    def remove_card_during_read(self) -> None:
        """The next 30 01 reply stops half-way and the card is gone from then on."""
        with self._lock:
            self._remove_during_read = True

    def unplug(self) -> None:
        """The port dies: the pty is closed, the driver's next read or write fails."""
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        for fd in (self._master, self._slave):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = -1
        try:
            os.unlink(self.link_path)
        except FileNotFoundError:
            pass

    def replug(self) -> None:
        self.unplug()
        self._plug()

    close = unplug

    # ------------------------------------------------------------------ device side
    def _plug(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: a byte pipe like a UART
        self._slave_name = os.ttyname(self._slave)
        try:
            os.unlink(self.link_path)
        except FileNotFoundError:
            pass
        os.symlink(self._slave_name, self.link_path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-sam", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        decoder = codec.FrameDecoder()
        master, stop = self._master, self._stop
        while not stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.02)
                if not ready:
                    continue
                chunk = os.read(master, 4096)
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):  # no slave open right now
                    time.sleep(0.01)
                    continue
                return
            decoder.feed(chunk)
            while True:
                try:
                    frame = decoder.next_frame()
                except codec.BadChecksum:
                    self._write(master, codec.build_reply(0x10), None)
                    continue
                if frame is None:
                    break
                request = codec.parse_request(frame)
                self.requests.append(request.name)
                self._answer(master, request)

    def _answer(self, master: int, request: codec.Request) -> None:
        key = (request.cmd, request.para)
        with self._lock:
            if self.mute:
                return
            card = self._card
            half = False
            if key == codec.CMD_STATUS or key == codec.CMD_RESET:
                reply = codec.build_reply(codec.SW_OK)
            elif key == codec.CMD_SAM_ID:
                reply = codec.build_reply(codec.SW_OK, codec.encode_sam_id(self.sam_id))
            elif key == codec.CMD_FIND:
                reply = codec.build_reply(codec.SW_FOUND, b"\x00" * 4) if card else codec.build_reply(codec.SW_NO_CARD)
            elif key == codec.CMD_SELECT:
                reply = codec.build_reply(codec.SW_OK, b"\x00" * 8) if card else codec.build_reply(codec.SW_SELECT_FAILED)
            elif key in (codec.CMD_READ, codec.CMD_READ_FP):
                if card is None:
                    reply = codec.build_reply(codec.SW_READ_FAILED)
                else:
                    fp = bytes(1024) if key == codec.CMD_READ_FP else None
                    reply = samples.build_read_reply(card, fingerprint=fp)
                    if self._remove_during_read:
                        self._remove_during_read = False
                        self._card = None
                        half = True
            elif key == codec.CMD_READ_APPENDED:
                if card and self._appended:
                    data = b"".join(
                        (a.encode("utf-16-le") + b" \x00" * 35)[:70] for a in self._appended
                    )
                    reply = codec.build_reply(codec.SW_OK, data)
                else:
                    reply = codec.build_reply(codec.SW_NO_CONTENT)
            else:
                reply = codec.build_reply(0x21)
            corrupt = False
            for k in (key, None):
                if self._corrupt.get(k):
                    self._corrupt[k] -= 1
                    corrupt = True
                    break
            noise = self.noise
        if corrupt:
            reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
        if half:
            reply = reply[: len(reply) // 2]
        self._write(master, noise + reply, self._rng)

    def _write(self, master: int, data: bytes, rng: random.Random | None) -> None:
        pos = 0
        while pos < len(data) and not self._stop.is_set():
            size = rng.randint(1, self.max_chunk) if rng else len(data)
            try:
                pos += os.write(master, data[pos : pos + size])
            except OSError:
                return
            if rng and self.chunk_delay:
                time.sleep(self.chunk_delay)
