"""Chip-photo decoder plug-ins. The WLT format is licensed: only the vendor library decodes it.

A decoder is configured by kind and path (:func:`make_decoder`). When none is configured or it
cannot be loaded, the card still reads, the raw 1024-byte WLT is kept on the card and
``photo_status`` says "unavailable" with a message the clerk can understand.

Kinds:
* ``wltrs``   — WltRS.dll / libwltu.so ``int GetBmp(char *wltPath, int intf)``: writes ``x.bmp``
  next to ``x.wlt``; intf 1 = serial reader, 2 = USB reader.
* ``wlt2bmp`` — libwlt2bmp ``int wlt2bmp(const uchar *wlt, uchar *bgrOut /*38556*/, int mode)``;
  the 102×126 BGR output is wrapped into a BMP here (rows assumed top-down — [F], check with a
  real library).
* ``termb``   — 华视 termb decodes the photo itself while reading; the termb driver puts the BMP
  on the card and this plug-in only passes it through.
"""

from __future__ import annotations

import ctypes
import os
import struct
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass

from desktop.devices.base import LibraryUnavailable, ReaderError
from desktop.devices.idcard._native import bind, load_library
from desktop.devices.idcard.model import (
    MSG_PHOTO_UNAVAILABLE,
    PHOTO_FAILED,
    PHOTO_NONE,
    PHOTO_NOT_DECODED,
    PHOTO_OK,
    PHOTO_UNAVAILABLE,
    IdCard,
)

WIDTH, HEIGHT = 102, 126
RAW_BGR_SIZE = WIDTH * HEIGHT * 3  # 38 556
BMP_SIZE = 54 + ((WIDTH * 3 + 3) & ~3) * HEIGHT  # 38 862

GETBMP_ERRORS = {
    0: "调用 sdtapi.dll 错误",
    -1: "相片解码错误",
    -2: "wlt 文件后缀错误",
    -3: "wlt 文件打开错误",
    -4: "wlt 文件格式错误",
    -5: "解码库与机具不匹配或软件未授权",
    -6: "设备连接错误",
}


class PhotoDecodeError(ReaderError):
    code = "photo_decode_failed"


def bgr_to_bmp(untrusted_bgr: bytes, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Top-down BGR rows → a bottom-up 24-bit BMP with 4-byte row padding."""
    row = width * 3
    if len(untrusted_bgr) < row * height:
        raise PhotoDecodeError("解码输出长度不足")
    stride = (row + 3) & ~3
    pad = b"\x00" * (stride - row)
    pixels = b"".join(untrusted_bgr[y * row : (y + 1) * row] + pad for y in range(height - 1, -1, -1))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 3780, 3780, 0, 0)
    return header + info + pixels


class PhotoDecoder(ABC):
    kind = "abstract"

    @property
    def available(self) -> bool:
        return True

    @property
    def unavailable_reason_zh(self) -> str:
        return ""

    @abstractmethod
    def decode(self, wlt: bytes) -> bytes:
        """WLT → BMP bytes. Raises :class:`PhotoDecodeError`."""


class UnavailableDecoder(PhotoDecoder):
    """The null decoder: the photo cannot be shown, for a stated reason."""

    kind = "none"

    def __init__(self, reason_zh: str = MSG_PHOTO_UNAVAILABLE) -> None:
        self._reason = reason_zh

    @property
    def available(self) -> bool:
        return False

    @property
    def unavailable_reason_zh(self) -> str:
        return self._reason

    def decode(self, wlt: bytes) -> bytes:
        raise PhotoDecodeError(self._reason, code="photo_unavailable")


class WltRsDecoder(PhotoDecoder):
    kind = "wltrs"

    def __init__(self, path: str, interface: int = 2) -> None:
        lib = load_library(path, "照片解码库 WltRS")
        self._get_bmp = bind(lib, "GetBmp", ctypes.c_int, [ctypes.c_char_p, ctypes.c_int], "照片解码库 WltRS")
        self._interface = interface

    def decode(self, wlt: bytes) -> bytes:
        # the library only works on files; a private temp dir keeps the photo off shared paths
        with tempfile.TemporaryDirectory(prefix="certdesk-wlt-") as tmp:
            wlt_path = os.path.join(tmp, "zp.wlt")
            with open(wlt_path, "wb") as fh:
                fh.write(wlt)
            rc = self._get_bmp(wlt_path.encode(), self._interface)
            if rc != 1:
                raise PhotoDecodeError(f"照片解码失败：{GETBMP_ERRORS.get(rc, f'错误码 {rc}')}", rc=rc)
            try:
                with open(os.path.join(tmp, "zp.bmp"), "rb") as fh:
                    return fh.read()
            except OSError:
                raise PhotoDecodeError("照片解码失败：解码库未生成 BMP 文件") from None


class Wlt2BmpDecoder(PhotoDecoder):
    kind = "wlt2bmp"

    def __init__(self, path: str, mode: int = 198) -> None:
        lib = load_library(path, "照片解码库 wlt2bmp")
        self._fn = bind(lib, "wlt2bmp", ctypes.c_int,
                        [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int], "照片解码库 wlt2bmp")
        self._mode = mode

    def decode(self, wlt: bytes) -> bytes:
        out = ctypes.create_string_buffer(RAW_BGR_SIZE + 64)
        rc = self._fn(bytes(wlt), out, self._mode)
        if rc != 1:
            raise PhotoDecodeError(f"照片解码失败：错误码 {rc}", rc=rc)
        return bgr_to_bmp(out.raw[:RAW_BGR_SIZE])


class TermbBmpDecoder(PhotoDecoder):
    """termb decodes the photo during CVR_Read_Content; the BMP is already on the card."""

    kind = "termb"

    def decode(self, wlt: bytes) -> bytes:
        raise PhotoDecodeError("华视 termb 照片由读卡库直接提供", code="photo_unavailable")


DECODER_KINDS = {"wltrs": WltRsDecoder, "wlt2bmp": Wlt2BmpDecoder}


def make_decoder(kind: str | None, path: str | None = None, **options) -> PhotoDecoder:
    """Build the configured decoder; a missing or broken library yields an UnavailableDecoder."""
    if not kind or kind == "none":
        return UnavailableDecoder()
    if kind == "termb":
        return TermbBmpDecoder()
    cls = DECODER_KINDS.get(kind)
    if cls is None:
        return UnavailableDecoder(f"无法显示芯片照片：未知的照片解码库类型 {kind!r}")
    if not path:
        return UnavailableDecoder(MSG_PHOTO_UNAVAILABLE)
    try:
        return cls(path, **options)
    except LibraryUnavailable as exc:
        return UnavailableDecoder(f"无法显示芯片照片：{exc.message_zh}（原始照片数据已保留）")


def attach_photo(card: IdCard, decoder: PhotoDecoder | None) -> IdCard:
    """Decode the card's WLT with ``decoder``; never raises (a photo problem is a state)."""
    if card.photo_status != PHOTO_NOT_DECODED:
        return card  # already decided by the driver (termb BMP, manual entry)
    if not card.photo_wlt:
        return card.with_photo(PHOTO_NONE, None, "证件中没有照片数据")
    decoder = decoder or UnavailableDecoder()
    if not decoder.available:
        return card.with_photo(PHOTO_UNAVAILABLE, None, decoder.unavailable_reason_zh)
    try:
        bmp = decoder.decode(card.photo_wlt)
    except PhotoDecodeError as exc:
        status = PHOTO_UNAVAILABLE if exc.code == "photo_unavailable" else PHOTO_FAILED
        return card.with_photo(status, None, f"无法显示芯片照片：{exc.message_zh}（原始照片数据已保留）")
    except Exception as exc:  # a vendor library misbehaving must not lose the card read
        return card.with_photo(PHOTO_FAILED, None, f"无法显示芯片照片：解码库异常（{type(exc).__name__}）")
    return card.with_photo(PHOTO_OK, bmp, "")


@dataclass(frozen=True, slots=True)
class DecoderInfo:
    kind: str
    available: bool
    reason_zh: str


def describe(decoder: PhotoDecoder) -> DecoderInfo:
    return DecoderInfo(decoder.kind, decoder.available, decoder.unavailable_reason_zh)
