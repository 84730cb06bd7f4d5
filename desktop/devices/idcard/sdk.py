"""Vendor SDK drivers through ctypes: the standard SDTAPI (sdtapi.dll) and 华视 termb.

Windows vendor DLLs are ``__stdcall`` and usually 32-bit (they need a 32-bit Python); elsewhere
the same exports are plain C (tests build such a library with gcc). Ports: 1–16 serial,
1001–1016 USB (docs/idcard-protocol.md §4.1); ``port=None`` scans 1001→1016 then 1→16.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, byref, c_char_p, c_int, c_uint, create_string_buffer
from datetime import date
from typing import Callable

from desktop.devices.base import (
    MSG_READ_FAILED,
    CardReader,
    CardReadError,
    DeviceInfo,
    ReaderDisconnected,
    ReaderNotFound,
    ReaderTimeout,
    SamStatusError,
)
from desktop.devices.idcard import codec, parser, tables
from desktop.devices.idcard._native import bind, load_library
from desktop.devices.idcard.model import (
    FOREIGN_2017,
    FOREIGN_2023,
    HK_MO_TW,
    PHOTO_FAILED,
    PHOTO_OK,
    RESIDENT,
    IdCard,
)

SCAN_PORTS = tuple(range(1001, 1017)) + tuple(range(1, 17))
UCHAR_P = c_char_p  # buffers are passed as create_string_buffer objects

# host-side return codes of sdtapi (§1.6)
SDT_PORT_ERROR, SDT_TIMEOUT, SDT_TRANSFER_ERROR = 0x01, 0x02, 0x03


def _sdt_host_error(rc: int, what: str) -> Exception:
    if rc == SDT_PORT_ERROR:
        return ReaderDisconnected(f"读卡器端口不可用（{what}）")
    if rc in (SDT_TIMEOUT, SDT_TRANSFER_ERROR):
        return ReaderTimeout(f"读卡器通信超时或传输错误（{what}，返回 0x{rc:02X}）")
    return SamStatusError(f"{what}失败：{codec.status_text(rc)}", sw3=rc)


class SdtApiReader(CardReader):
    driver = "sdtapi"
    WHAT = "身份证读卡库 sdtapi"

    def __init__(self, library_path: str, port: int | None = None, *,
                 today: Callable[[], date] | None = None) -> None:
        self.library_path = library_path
        self.port = port
        self._today = today
        self._lib = None
        self._open_port: int | None = None
        self._info: DeviceInfo | None = None

    def _load(self) -> None:
        if self._lib is not None:
            return
        lib = load_library(self.library_path, self.WHAT)
        w = self.WHAT
        self._f = {
            "open": bind(lib, "SDT_OpenPort", c_int, [c_int], w),
            "close": bind(lib, "SDT_ClosePort", c_int, [c_int], w),
            "status": bind(lib, "SDT_GetSAMStatus", c_int, [c_int, c_int], w),
            "samid": bind(lib, "SDT_GetSAMID", c_int, [c_int, UCHAR_P, c_int], w),
            "find": bind(lib, "SDT_StartFindIDCard", c_int, [c_int, UCHAR_P, c_int], w),
            "select": bind(lib, "SDT_SelectIDCard", c_int, [c_int, UCHAR_P, c_int], w),
            "read": bind(lib, "SDT_ReadBaseMsg", c_int,
                         [c_int, UCHAR_P, POINTER(c_uint), UCHAR_P, POINTER(c_uint), c_int], w),
            "appended": bind(lib, "SDT_ReadNewAppMsg", c_int, [c_int, UCHAR_P, POINTER(c_uint), c_int],
                             w, required=False),
        }
        self._lib = lib

    @property
    def is_open(self) -> bool:
        return self._info is not None

    def open(self) -> DeviceInfo:
        self._load()
        ports = (self.port,) if self.port else SCAN_PORTS
        for port in ports:
            if self._f["open"](port) == codec.SW_OK:
                self._open_port = port
                break
        else:
            raise ReaderNotFound("未找到读卡器（sdtapi 所有端口均无法打开）")
        rc = self._f["status"](self._open_port, 0)
        if rc != codec.SW_OK:
            self.close()
            raise SamStatusError(f"安全模块状态异常：{codec.status_text(rc)}", sw3=rc)
        buf = create_string_buffer(16)
        sam_id = codec.decode_sam_id(buf.raw) if self._f["samid"](self._open_port, buf, 0) == codec.SW_OK else None
        self._info = DeviceInfo(self.driver, str(self._open_port), "sdtapi 读卡器", sam_id)
        return self._info

    def close(self) -> None:
        self._info = None
        if self._open_port is not None and self._lib is not None:
            try:
                self._f["close"](self._open_port)
            except Exception:
                pass
        self._open_port = None

    def _port(self) -> int:
        if self._open_port is None:
            raise ReaderDisconnected("读卡器未连接")
        return self._open_port

    def find_card(self) -> bool:
        rc = self._f["find"](self._port(), create_string_buffer(8), 0) if self._lib else None
        if rc is None:
            raise ReaderDisconnected("读卡器未连接")
        if rc == codec.SW_FOUND:
            return True
        if rc == codec.SW_NO_CARD:
            return False
        raise _sdt_host_error(rc, "寻卡")

    def read_card(self) -> IdCard:
        port = self._port()
        rc = self._f["select"](port, create_string_buffer(16), 0)
        if rc in (SDT_PORT_ERROR,):
            raise _sdt_host_error(rc, "选卡")
        if rc != codec.SW_OK:
            raise CardReadError(f"{MSG_READ_FAILED}（{codec.status_text(rc)}）", sw3=rc)
        text, photo = create_string_buffer(512), create_string_buffer(2048)
        text_len, photo_len = c_uint(0), c_uint(0)
        rc = self._f["read"](port, text, byref(text_len), photo, byref(photo_len), 0)
        if rc == SDT_PORT_ERROR:
            raise _sdt_host_error(rc, "读卡")
        if rc != codec.SW_OK:
            raise CardReadError(f"{MSG_READ_FAILED}（返回 0x{rc:02X}）", sw3=rc)
        untrusted_text = text.raw[: min(text_len.value, len(text))]
        untrusted_photo = photo.raw[: min(photo_len.value, len(photo))]
        try:
            card = parser.parse_text(untrusted_text, untrusted_photo, source=self.driver,
                                     today=self._today() if self._today else None)
        except Exception as exc:
            raise CardReadError(f"{MSG_READ_FAILED}（{getattr(exc, 'message_zh', exc)}）") from exc
        if self._f["appended"] is not None:
            buf, n = create_string_buffer(320), c_uint(0)
            if self._f["appended"](port, buf, byref(n), 0) == codec.SW_OK and n.value:
                from dataclasses import replace

                card = replace(card, appended_addresses=parser.parse_appended_addresses(buf.raw[: min(n.value, 320)]))
        return card


class TermbReader(CardReader):
    """华视 CVR termb: the library does find/select/read and decodes the photo itself.

    Its getters return **GBK** strings; fields are rebuilt into an :class:`IdCard` and run
    through the same consistency checks as the raw-protocol drivers.
    """

    driver = "termb"
    WHAT = "华视读卡库 termb"
    GETTERS = ("GetPeopleName", "GetPeopleSex", "GetPeopleNation", "GetPeopleBirthday",
               "GetPeopleAddress", "GetPeopleIDCode", "GetDepartment", "GetStartDate", "GetEndDate")
    OPTIONAL = ("GetNationCode", "GetCertType", "GetPeopleChineseName", "GetPassCheckID",
                "GetBMPData", "CVR_FindCard", "CVR_SelectCard", "CVR_GetSAMID")

    def __init__(self, library_path: str, port: int | None = None, *,
                 today: Callable[[], date] | None = None) -> None:
        self.library_path = library_path
        self.port = port
        self._today = today
        self._lib = None
        self._info: DeviceInfo | None = None

    def _load(self) -> None:
        if self._lib is not None:
            return
        lib = load_library(self.library_path, self.WHAT)
        w = self.WHAT
        f = {
            "CVR_InitComm": bind(lib, "CVR_InitComm", c_int, [c_int], w),
            "CVR_CloseComm": bind(lib, "CVR_CloseComm", c_int, [], w),
            "CVR_Authenticate": bind(lib, "CVR_Authenticate", c_int, [], w),
            "CVR_Read_Content": bind(lib, "CVR_Read_Content", c_int, [c_int], w),
        }
        for name in self.GETTERS:
            f[name] = bind(lib, name, c_int, [c_char_p, POINTER(c_int)], w)
        for name in self.OPTIONAL:
            if name in ("CVR_FindCard", "CVR_SelectCard"):
                f[name] = bind(lib, name, c_int, [], w, required=False)
            elif name == "CVR_GetSAMID":
                f[name] = bind(lib, name, c_int, [c_char_p], w, required=False)
            else:
                f[name] = bind(lib, name, c_int, [c_char_p, POINTER(c_int)], w, required=False)
        self._f = f
        self._lib = lib

    @property
    def is_open(self) -> bool:
        return self._info is not None

    def open(self) -> DeviceInfo:
        self._load()
        for port in (self.port,) if self.port else SCAN_PORTS:
            if self._f["CVR_InitComm"](port) == 1:
                break
        else:
            raise ReaderNotFound("未找到读卡器（termb 所有端口均无法打开）")
        sam_id = None
        if self._f["CVR_GetSAMID"] is not None:
            buf = create_string_buffer(64)
            if self._f["CVR_GetSAMID"](buf) == 1:
                sam_id = buf.value.decode("ascii", errors="replace") or None
        self._info = DeviceInfo(self.driver, str(port), "华视 termb 读卡器", sam_id)
        return self._info

    def close(self) -> None:
        if self._info is not None and self._lib is not None:
            try:
                self._f["CVR_CloseComm"]()
            except Exception:
                pass
        self._info = None

    def find_card(self) -> bool:
        if self._info is None:
            raise ReaderDisconnected("读卡器未连接")
        fn = self._f["CVR_FindCard"] or self._f["CVR_Authenticate"]
        return fn() == 1

    def _get(self, name: str, size: int = 256) -> str:
        fn = self._f.get(name)
        if fn is None:
            return ""
        buf, n = create_string_buffer(size), c_int(size)
        if fn(buf, byref(n)) != 1:
            return ""
        raw = buf.raw[: max(0, min(n.value, size))].split(b"\x00", 1)[0]
        return raw.decode("gbk", errors="replace").strip()

    def read_card(self) -> IdCard:
        if self._info is None:
            raise ReaderDisconnected("读卡器未连接")
        if self._f["CVR_SelectCard"] is not None and self._f["CVR_SelectCard"]() != 1:
            raise CardReadError(MSG_READ_FAILED)
        if self._f["CVR_Read_Content"](4) != 1:
            raise CardReadError(MSG_READ_FAILED)
        cert = self._get("GetCertType", 8).upper()
        card_type = {"I": FOREIGN_2017, "Y": FOREIGN_2023, "J": HK_MO_TW}.get(cert, RESIDENT)
        sex_text = self._get("GetPeopleSex")
        sex_code = {v: k for k, v in tables.SEX.items()}.get(sex_text, sex_text)
        nation_code = self._get("GetNationCode", 8) or None
        nation = self._get("GetPeopleNation")
        issues: list = []
        birth = parser._date_field(self._get("GetPeopleBirthday"), "出生日期", issues)
        valid_from = parser._date_field(self._get("GetStartDate").replace(".", ""), "签发日期", issues)
        valid_to = parser._date_field(self._get("GetEndDate").replace(".", ""), "有效期截止日期", issues,
                                      long_term_ok=True)
        card = IdCard(
            card_type=card_type, name=self._get("GetPeopleName"), sex=tables.sex_name(sex_code),
            sex_code=sex_code, birth_date=birth, id_number=self._get("GetPeopleIDCode"),
            valid_from=valid_from, valid_to=valid_to,
            nation=(nation or (tables.nation_name(nation_code) if nation_code else None)) if card_type == RESIDENT else None,
            nation_code=nation_code if card_type == RESIDENT else None,
            address=self._get("GetPeopleAddress", 512), issuer=self._get("GetDepartment"),
            pass_number=self._get("GetPassCheckID") or None if card_type == HK_MO_TW else None,
            source=self.driver,
        )
        issues.extend(parser.check_consistency(card, today=self._today() if self._today else None))
        from dataclasses import replace

        card = replace(card, issues=tuple(issues))
        if self._f["GetBMPData"] is not None:
            buf, n = create_string_buffer(40000), c_int(40000)
            if self._f["GetBMPData"](buf, byref(n)) == 1 and 0 < n.value <= 40000:
                return card.with_photo(PHOTO_OK, buf.raw[: n.value])
            return card.with_photo(PHOTO_FAILED, None, "无法显示芯片照片：termb 未返回照片")
        return card
