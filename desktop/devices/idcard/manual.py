"""Manual entry when no card can be read: the clerk types the number and records why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from desktop.domain import idnumber
from desktop.devices.idcard.model import PHOTO_NONE, RESIDENT, HK_MO_TW, IdCard
from desktop.devices.idcard import tables
from desktop.errors import UserFacingError

REASONS = {
    "reader_fault": "读卡器故障或无法连接",
    "card_unreadable": "证件芯片损坏，无法读取",
    "no_physical_card": "未携带实体证件（持临时身份证或户口簿等）",
    "other": "其他原因",
}


class ManualEntryError(UserFacingError):
    code = "manual_entry_invalid"


@dataclass(frozen=True, slots=True)
class ManualEntry:
    id_number: str
    reason: str  # a key of REASONS
    note: str
    entered_at: datetime
    clerk: str
    birth_date: date
    sex: str  # "M" / "F"
    region: str

    @property
    def reason_zh(self) -> str:
        return REASONS[self.reason] + (f"：{self.note}" if self.note else "")

    @property
    def masked_number(self) -> str:
        return idnumber.mask(self.id_number)

    def __repr__(self) -> str:
        return f"ManualEntry(number={self.masked_number}, reason={self.reason}, clerk={self.clerk!r})"

    def to_card(self, name: str = "") -> IdCard:
        """A card-shaped record (no photo, nothing from a chip) for the rest of the flow."""
        code = "1" if self.sex == "M" else "2"
        card_type = HK_MO_TW if self.id_number[:6] in idnumber.SPECIAL_REGIONS else RESIDENT
        return IdCard(
            card_type=card_type, name=name, sex=tables.sex_name(code), sex_code=code,
            birth_date=self.birth_date.isoformat(), id_number=self.id_number, valid_from="",
            valid_to="", source="manual", photo_status=PHOTO_NONE,
            photo_message_zh="手工录入，无芯片照片",
        )


def make_manual_entry(number: str, reason: str, note: str = "", *, clerk: str = "",
                      now: datetime | None = None, today: date | None = None) -> ManualEntry:
    """Validate and record a typed-in number. Raises :class:`ManualEntryError` (message in 中文)."""
    if reason not in REASONS:
        raise ManualEntryError("请选择手工录入的原因", field="reason")
    note = (note or "").strip()
    if reason == "other" and not note:
        raise ManualEntryError("选择“其他原因”时请填写具体说明", field="note")
    check = idnumber.validate(number, today=today)
    if not check.valid:
        raise ManualEntryError(f"身份号码无效：{check.reason_zh}", field="number", reason=check.reason)
    return ManualEntry(
        id_number=check.number, reason=reason, note=note, entered_at=now or datetime.now(),
        clerk=clerk, birth_date=check.birth_date, sex=check.sex, region=check.region or "",
    )
