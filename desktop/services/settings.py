"""Settings declared once, with type, default, Chinese title and description.

Stored in the database (``settings`` table) so every workstation of a bureau shares them; the
settings dialog is generated from these declarations. When adding a setting: declare it here
with a default; never read a raw key elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from db import journal
from db import settings_repo
from desktop.services.database import Database
from desktop.services.guard import require


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    type: type
    default: Any
    title_zh: str
    description_zh: str = ""
    group: str = "bureau"


OPTIONS: dict[str, Option] = {
    o.key: o
    for o in (
        Option("bureau_name", str, "阿尔山市人力资源和社会保障局", "经办机构名称"),
        Option("bureau_short", str, "阿尔山市社会保险事业管理中心", "经办机构简称"),
        Option("bureau_address", str, "内蒙古自治区兴安盟阿尔山市社保中心一楼大厅综合受理窗口", "表格寄回地址"),
        Option("bureau_postcode", str, "137800", "邮政编码"),
        Option("bureau_phone", str, "0482-2773972", "咨询电话"),
        Option("payroll_day", int, 1, "每月制作发放名单的日期", "发放月的第几天（默认1日）", "payroll"),
        Option("warn_days", int, 30, "到期提醒天数", "距认证截止日期不足该天数时显示“即将到期”", "payroll"),
        Option("mask_id_on_forms", bool, True, "协助认证表上隐藏部分身份号码", "", "printing"),
        Option("face_accept", float, 0.50, "人脸比对通过标准", "数值越小越严格：比对结果不超过这个数才认定是本人（由技术人员调整）", "face"),
        Option("face_reject", float, 0.60, "人脸比对不通过标准", "比对结果超过这个数认定不是本人；介于两个标准之间的，由工作人员核对照片后确认", "face"),
        Option("idle_lock_minutes", int, 5, "空闲锁屏（分钟）", "", "security"),
        Option("face_retention_days", int, 365, "人脸图像保存天数", "现场采集的人脸图像在认证后保存的天数，到期自动清除", "security"),
        Option("scan_retention_days", int, 365, "扫描件保存天数", "收回的协助认证表扫描件在登记后保存的天数，到期自动清除", "security"),
    )
}


class SettingsService:
    def __init__(self, db: Database):
        self.db = db
        self._cache: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._cache is None:
            with self.db.engine.connect() as conn:
                self._cache = {k: json.loads(v) for k, v in settings_repo.all_values(conn).items()}
        return self._cache

    def get(self, key: str) -> Any:
        option = OPTIONS[key]
        value = self._load().get(key, option.default)
        try:
            return option.type(value)
        except (TypeError, ValueError):
            return option.default

    def all(self) -> dict[str, Any]:
        return {k: self.get(k) for k in OPTIONS}

    def set(self, key: str, value: Any, actor=None) -> None:
        option = OPTIONS[key]
        value = option.type(value)
        if actor is not None:
            require(self.db, actor, "settings.change")
        with self.db.engine.begin() as conn:
            settings_repo.put(conn, key, json.dumps(value))
            if actor is not None:
                journal.audit(conn, actor.operator, actor.workstation, "settings.change", "setting", None,
                              {"key": key, "value": value})
                journal.enqueue(conn, [("setting", key, {"key": key, "value": value})])
        self._cache = None
