"""Settings of THIS workstation (devices, printer, resident screen), declared like the bureau's
settings in :mod:`desktop.services.settings` but stored in the config dir: a COM port or a printer
name belongs to one counter PC, not to the whole bureau."""

from __future__ import annotations

import json
from typing import Any

from desktop.platform import paths
from desktop.services.settings import Option

READER_DRIVERS_ZH = {"auto": "自动检测", "sam_serial": "串口 SAM 模块", "sdtapi": "厂商库 sdtapi",
                     "termb": "厂商库 termb", "simulated": "模拟读卡器（仅演示）"}
CAMERA_KINDS_ZH = {"webcam": "USB 摄像头", "simulated": "模拟摄像头（仅演示）"}

STATION_OPTIONS: dict[str, Option] = {
    o.key: o
    for o in (
        Option("reader_driver", str, "auto", "身份证读卡器", "读卡器的种类；不清楚时选“自动检测”", "devices"),
        Option("reader_port", str, "", "读卡器接口", "一般留空，系统会自动查找读卡器；查找不到时由技术人员填写接口（如 COM3）",
               "devices"),
        Option("reader_sdk_path", str, "", "读卡器驱动程序位置", "使用厂商驱动程序的读卡器才需要，由技术人员填写", "devices"),
        Option("camera_kind", str, "webcam", "摄像头", "柜台上给居民拍照比对用的摄像头", "devices"),
        Option("camera_index", int, 0, "摄像头编号", "接了几台摄像头时选用哪一台：第一台是 0，第二台是 1", "devices"),
        Option("window_no", str, "", "窗口号", "本柜台的窗口编号（如 3），印在认证回执的经办人旁", "counter"),
        Option("training_mode", bool, False, "培训模式",
               "下次启动时进入培训模式：用模拟的读卡器和摄像头、单独的培训数据库练习，"
               "办理的记录不进入正式数据，也不会同步", "counter"),
        Option("resident_screen", bool, True, "在第二块屏幕上显示居民提示", "", "devices"),
        Option("printer_name", str, "", "回执打印机", "不选则使用电脑的默认打印机", "printer"),
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
