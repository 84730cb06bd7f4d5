"""The SAM serial driver: find (20 01) → select (20 02) → read (30 01 / 30 10) over pyserial."""

from __future__ import annotations

import logging
from datetime import date
from typing import Callable

from desktop.devices.base import (
    MSG_READ_FAILED,
    CardReader,
    CardReadError,
    DeviceInfo,
    FrameError,
    ReaderDisconnected,
    ReaderTimeout,
    SamStatusError,
)
from desktop.devices.idcard import codec, parser
from desktop.devices.idcard.model import IdCard
from desktop.devices.idcard.transport import SerialTransport

log = logging.getLogger(__name__)

# per-command timeouts (docs/idcard-protocol.md §1.7): find/select 1 s, read 3 s
FIND_TIMEOUT = 1.0
SELECT_TIMEOUT = 1.0
READ_TIMEOUT = 3.0


class SamSerialReader(CardReader):
    driver = "sam_serial"

    def __init__(self, port: str, baudrate: int = 115200, *, fingerprint: bool = False,
                 appended_address: bool = True, timeout_scale: float = 1.0,
                 transport: SerialTransport | None = None,
                 today: Callable[[], date] | None = None) -> None:
        self.port = port
        self._transport = transport or SerialTransport(port, baudrate)
        self._fingerprint = fingerprint
        self._appended = appended_address
        self._scale = timeout_scale
        self._today = today
        self._info: DeviceInfo | None = None

    @property
    def is_open(self) -> bool:
        return self._transport.is_open and self._info is not None

    @property
    def stats(self) -> dict:
        return self._transport.stats

    def open(self) -> DeviceInfo:
        self._transport.open()
        try:
            status = self._transport.transact(*codec.CMD_STATUS, timeout=FIND_TIMEOUT * self._scale)
            if status.sw3 != codec.SW_OK:
                raise SamStatusError(f"安全模块状态异常：{status.status_zh}", sw3=status.sw3)
            sam_id = None
            reply = self._transport.transact(*codec.CMD_SAM_ID, timeout=FIND_TIMEOUT * self._scale)
            if reply.sw3 == codec.SW_OK:
                sam_id = codec.decode_sam_id(reply.data)
        except BaseException:
            self._transport.close()
            raise
        self._info = DeviceInfo(self.driver, self.port, "SAM 串口读卡器", sam_id)
        return self._info

    def close(self) -> None:
        self._info = None
        self._transport.close()

    def _require_open(self) -> None:
        if self._info is None:
            raise ReaderDisconnected("读卡器未连接")

    def find_card(self) -> bool:
        self._require_open()
        reply = self._transport.transact(*codec.CMD_FIND, timeout=FIND_TIMEOUT * self._scale, retries=0)
        if reply.sw3 == codec.SW_FOUND:
            return True
        if reply.sw3 == codec.SW_NO_CARD:
            return False
        raise SamStatusError(f"寻卡失败：{reply.status_zh}", sw3=reply.sw3)

    def read_card(self) -> IdCard:
        self._require_open()
        try:
            reply = self._transport.transact(*codec.CMD_SELECT, timeout=SELECT_TIMEOUT * self._scale)
            if reply.sw3 != codec.SW_OK:
                raise CardReadError(f"{MSG_READ_FAILED}（{reply.status_zh}）", sw3=reply.sw3)
            cmd = codec.CMD_READ_FP if self._fingerprint else codec.CMD_READ
            reply = self._transport.transact(*cmd, timeout=READ_TIMEOUT * self._scale)
            if reply.sw3 != codec.SW_OK:
                raise CardReadError(f"{MSG_READ_FAILED}（{reply.status_zh}）", sw3=reply.sw3)
            card = parser.parse_read_data(
                reply.data, fingerprint=self._fingerprint, source=self.driver,
                today=self._today() if self._today else None,
            )
        except (ReaderTimeout, FrameError) as exc:
            # the card left the field mid-read, or the reply was mangled past the retries
            raise CardReadError(f"{MSG_READ_FAILED}（{exc.message_zh}）") from exc
        if self._appended:
            card = self._with_appended(card)
        return card

    def _with_appended(self, card: IdCard) -> IdCard:
        from dataclasses import replace

        try:
            reply = self._transport.transact(*codec.CMD_READ_APPENDED, timeout=SELECT_TIMEOUT * self._scale)
        except (ReaderTimeout, FrameError):
            log.info("appended address not available (no reply)")
            return card
        if reply.sw3 == codec.SW_OK and reply.data:
            return replace(card, appended_addresses=parser.parse_appended_addresses(reply.data))
        return card

    def sam_id(self) -> str | None:
        return self._info.sam_id if self._info else None


def probe_port(port: str, *, baudrate: int = 115200, timeout: float = 0.5) -> dict:
    """Send 11 FF (and 12 FF) to one port: what answered? Never raises."""
    transport = SerialTransport(port, baudrate)
    result: dict = {"port": port, "answered": False}
    try:
        transport.open()
    except Exception as exc:
        result.update(error=getattr(exc, "code", "open_failed"), message=getattr(exc, "message_zh", str(exc)))
        return result
    try:
        status = transport.transact(*codec.CMD_STATUS, timeout=timeout, retries=0)
        result.update(answered=True, sam_status=f"0x{status.sw3:02X}", sam_status_text=status.status_zh)
        if status.sw3 == codec.SW_OK:
            reply = transport.transact(*codec.CMD_SAM_ID, timeout=timeout, retries=0)
            if reply.sw3 == codec.SW_OK:
                result["sam_id"] = codec.decode_sam_id(reply.data)
    except (ReaderTimeout, FrameError, ReaderDisconnected) as exc:
        result.update(error=exc.code, message=exc.message_zh)
    finally:
        transport.close()
    return result
