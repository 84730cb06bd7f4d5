"""Which reader driver to build: by configuration, or by auto-detection.

Drivers are listed explicitly and imported **by name** when built (Vorta/Electrum style), so
importing this module pulls in neither pyserial nor ctypes libraries — the GUI can use it
without breaking the "ui never imports serial" rule.

Checklist when adding a driver: add it to ``DRIVERS``, give it a contract-test fixture in
``tests/devices/test_contract.py``, and describe its config keys in :class:`ReaderConfig`.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from desktop.devices.base import CardReader, ReaderNotFound

# name -> (module, class); priority order for "auto"
DRIVERS: dict[str, tuple[str, str]] = {
    "sam_serial": ("desktop.devices.idcard.sam_serial", "SamSerialReader"),
    "sdtapi": ("desktop.devices.idcard.sdk", "SdtApiReader"),
    "termb": ("desktop.devices.idcard.sdk", "TermbReader"),
    "simulated": ("desktop.devices.idcard.simulated", "SimulatedReader"),
}

# USB-serial bridges that ID readers are commonly built on, and the native SAM USB id
KNOWN_USB_IDS = {
    (0x0400, 0xC35A): "SAM USB 读卡器（原生 USB，需厂商驱动/libusb）",
    (0x10C4, 0xEA60): "CP210x USB 串口",
    (0x1A86, 0x7523): "CH340 USB 串口",
    (0x067B, 0x2303): "PL2303 USB 串口",
    (0x0403, 0x6001): "FTDI USB 串口",
    (0x0483, 0x5652): "身份证读卡器（STM32）",
}


@dataclass(frozen=True)
class ReaderConfig:
    driver: str = "auto"  # auto | sam_serial | sdtapi | termb | simulated
    port: str | None = None  # serial device / COM name, or SDK port number ("1001")
    baudrate: int = 115200
    sdk_path: str | None = None  # sdtapi.dll / termb.dll
    photo_decoder: str | None = None  # wltrs | wlt2bmp | termb | none
    photo_decoder_path: str | None = None
    fingerprint: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "ReaderConfig":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "options"}
        extra = {k: v for k, v in data.items() if k not in cls.__dataclass_fields__}
        return cls(**known, options=extra)


def _driver_class(name: str):
    try:
        module, cls = DRIVERS[name]
    except KeyError:
        raise ReaderNotFound(f"未知的读卡器驱动：{name}") from None
    return getattr(importlib.import_module(module), cls)


def build_reader(config: ReaderConfig) -> CardReader:
    name = config.driver
    if name == "auto":
        config = autodetect(config)
        name = config.driver
    cls = _driver_class(name)
    if name == "sam_serial":
        if not config.port:
            raise ReaderNotFound("未配置读卡器串口")
        return cls(config.port, config.baudrate, fingerprint=config.fingerprint, **dict(config.options))
    if name in ("sdtapi", "termb"):
        if not config.sdk_path:
            raise ReaderNotFound("未配置读卡库路径（sdtapi.dll / termb.dll）")
        return cls(config.sdk_path, int(config.port) if config.port else None)
    return cls(**dict(config.options))


def build_photo_decoder(config: ReaderConfig):
    from desktop.devices.idcard.photo import make_decoder

    kind = config.photo_decoder or ("termb" if config.driver == "termb" else None)
    return make_decoder(kind, config.photo_decoder_path)


def build_session(config: ReaderConfig, sink: Callable, **session_options):
    """Reader + photo decoder + state machine, ready for a :class:`DeviceIOThread`."""
    from desktop.devices.idcard.session import ReaderSession

    return ReaderSession(build_reader(config), sink, photo_decoder=build_photo_decoder(config),
                         **session_options)


def candidate_ports() -> list[dict]:
    """Serial ports of this machine with their USB ids (pyserial's list_ports)."""
    from serial.tools import list_ports

    ports = []
    for p in list_ports.comports():
        entry = {"port": p.device, "description": p.description or ""}
        if p.vid is not None:
            entry["usb_id"] = f"{p.vid:04x}:{p.pid:04x}"
            known = KNOWN_USB_IDS.get((p.vid, p.pid))
            if known:
                entry["known_as"] = known
        ports.append(entry)
    return ports


def probe(ports: list[str] | None = None, *, timeout: float = 0.5) -> list[dict]:
    """Send the SAM status command (11 FF) to each port; report who answered."""
    from desktop.devices.idcard.sam_serial import probe_port

    listed = {p["port"]: p for p in candidate_ports()} if ports is None else {p: {"port": p} for p in ports}
    results = []
    for port, entry in listed.items():
        results.append({**entry, **probe_port(port, timeout=timeout)})
    return results


def default_sdk_paths() -> list[tuple[str, str]]:
    """(driver, path) of vendor libraries found next to the app or on the library path."""
    found = []
    names = {"sdtapi": ["sdtapi.dll", "libsdtapi.so"], "termb": ["termb.dll", "libtermb.so"]}
    dirs = [os.getcwd(), os.path.dirname(sys.executable)]
    for driver, files in names.items():
        for d in dirs:
            for f in files:
                path = os.path.join(d, f)
                if os.path.exists(path):
                    found.append((driver, path))
    return found


def autodetect(config: ReaderConfig) -> ReaderConfig:
    """Pinned port first, then a configured SDK, then the first serial port whose SAM answers,
    then a vendor library found next to the app. Returns the config with the driver resolved."""
    if config.port and not config.sdk_path:
        return replace(config, driver="sam_serial")
    if config.sdk_path:
        name = "termb" if "termb" in os.path.basename(config.sdk_path).lower() else "sdtapi"
        return replace(config, driver=name)
    for result in probe():
        if result.get("answered") and result.get("sam_status") == "0x90":
            return replace(config, driver="sam_serial", port=result["port"])
    for driver, path in default_sdk_paths():
        return replace(config, driver=driver, sdk_path=path)
    raise ReaderNotFound("未检测到身份证读卡器，请检查连接或在设置中指定端口")
