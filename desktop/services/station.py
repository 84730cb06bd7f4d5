"""Settings of THIS workstation (devices, printer, resident screen), declared like the bureau's
settings in :mod:`desktop.services.settings` but stored in the config dir: a COM port or a printer
name belongs to one counter PC, not to the whole bureau."""

from __future__ import annotations

import json
from typing import Any

from desktop import paths
from desktop.services.settings import Option

READER_DRIVERS_ZH = {"auto": "自动检测", "sam_serial": "串口 SAM 模块", "sdtapi": "厂商库 sdtapi",
                     "termb": "厂商库 termb", "simulated": "模拟读卡器（仅演示）"}
CAMERA_KINDS_ZH = {"webcam": "USB 摄像头", "simulated": "模拟摄像头（仅演示）"}

STATION_OPTIONS: dict[str, Option] = {
    o.key: o
    for o in (
        Option("reader_driver", str, "auto", "身份证读卡器", "读卡器类型：" + "、".join(
            f"{k}={v}" for k, v in READER_DRIVERS_ZH.items()), "devices"),
        Option("reader_port", str, "", "读卡器端口", "串口（如 COM3、/dev/ttyUSB0）或厂商库端口号（如 1001）；留空自动检测",
               "devices"),
        Option("reader_sdk_path", str, "", "厂商读卡库路径", "sdtapi.dll / termb.dll 的位置", "devices"),
        Option("camera_kind", str, "webcam", "摄像头", "webcam=USB 摄像头，simulated=模拟（仅演示）", "devices"),
        Option("camera_index", int, 0, "摄像头编号", "第一台摄像头为 0", "devices"),
        Option("resident_screen", bool, True, "在第二块屏幕上显示居民提示", "", "devices"),
        Option("printer_name", str, "", "回执打印机", "留空使用系统默认打印机", "printer"),
        Option("print_after_record", bool, True, "认证完成后自动打开回执预览", "", "printer"),
    )
}


class StationSettings:
    def __init__(self, path=None):
        self.path = path or (paths.config_dir() / "station.json")
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, key: str) -> Any:
        option = STATION_OPTIONS[key]
        try:
            return option.type(self._load().get(key, option.default))
        except (TypeError, ValueError):
            return option.default

    def all(self) -> dict[str, Any]:
        return {k: self.get(k) for k in STATION_OPTIONS}

    def set(self, key: str, value: Any) -> None:
        option = STATION_OPTIONS[key]
        data = dict(self._load())
        data[key] = option.type(value)
        self.path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        self._data = data

    def reader_config(self, demo: bool):
        from desktop.devices.registry import ReaderConfig

        driver = self.get("reader_driver")
        if demo and driver == "auto":
            driver = "simulated"
        return ReaderConfig(driver=driver, port=self.get("reader_port") or None,
                            sdk_path=self.get("reader_sdk_path") or None)
