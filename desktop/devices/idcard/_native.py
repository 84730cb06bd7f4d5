"""Loading vendor shared libraries (sdtapi, termb, WLT decoders) with ctypes."""

from __future__ import annotations

import ctypes
import os
import sys

from desktop.devices.base import LibraryUnavailable


def load_library(path: str | os.PathLike, what_zh: str) -> ctypes.CDLL:
    """Vendor DLLs on Windows are ``__stdcall`` (WinDLL); elsewhere the C convention applies."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise LibraryUnavailable(f"{what_zh}不存在：{path}", path=path)
    try:
        if sys.platform == "win32":
            return ctypes.WinDLL(path)  # type: ignore[attr-defined]
        return ctypes.CDLL(path)
    except OSError as exc:  # wrong architecture (32-bit DLL in 64-bit Python), missing deps …
        raise LibraryUnavailable(f"{what_zh}无法加载：{exc}", path=path) from None


def bind(lib: ctypes.CDLL, name: str, restype, argtypes, what_zh: str, *, required: bool = True):
    try:
        fn = getattr(lib, name)
    except AttributeError:
        if not required:
            return None
        raise LibraryUnavailable(f"{what_zh}缺少函数 {name}") from None
    fn.restype = restype
    fn.argtypes = argtypes
    return fn
