"""Plain inputs of the printing layer (no ORM objects, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from desktop.domain.labels import CERT_METHOD_ZH


SEX_ZH = {"M": "男", "F": "女", "男": "男", "女": "女", "": ""}

# 认证方式 (docs/domain.md §4)
METHOD_ZH = CERT_METHOD_ZH  # the one table (desktop.domain.labels)


@dataclass(frozen=True, slots=True)
class BureauInfo:
    """The installation's settings printed on every form (from settings, not hard-coded)."""

    name: str = "阿尔山市人力资源和社会保障局"
    phone: str = "0482-2773972"  # 咨询电话
    return_address: str = ""  # where the form is mailed back
    return_postcode: str = ""
    return_recipient: str = "社会保险事业服务中心 待遇资格认证窗口"
    counter_address: str = "市社保中心一楼大厅综合受理窗口"
    full_id_number: bool = False  # the bureau's choice: print full ID numbers on forms


@dataclass(frozen=True, slots=True)
class FormData:
    """One resident's assist form. ``qr_payload`` comes from :func:`desktop.formats.qrsign.make_payload`."""

    serial: str
    qr_payload: str
    name: str
    sex: str  # "M"/"F" or 男/女
    id_number: str
    category: str  # 认证类别, e.g. 养老资格认证 / 企业离退休人员
    phone: str
    address: str  # where the resident lives now
    deadline: date
    issued_on: date
    postcode: str = ""


@dataclass(frozen=True, slots=True)
class AddressLabel:
    """One envelope label: the addressee (usually the resident) and an optional reference."""

    name: str
    address: str
    postcode: str = ""
    phone: str = ""
    reference: str = ""  # e.g. the form serial, printed small


@dataclass(frozen=True, slots=True)
class LabelSheet:
    """An A4 label sheet (default: 2 x 7 labels of 99.1 x 38.1 mm, L7163 type). Sizes in mm."""

    columns: int = 2
    rows: int = 7
    label_width: float = 99.1
    label_height: float = 38.1
    left_margin: float = 4.65
    top_margin: float = 15.15
    column_gap: float = 2.5
    row_gap: float = 0.0
    outline: bool = False  # draw the label borders (plain paper, test prints)

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


@dataclass(frozen=True, slots=True)
class EntitlementLine:
    """What a certification covers: one entitlement and its next deadline."""

    label: str  # e.g. 企业职工基本养老金
    next_deadline: date | None


@dataclass(frozen=True, slots=True)
class Resumption:
    """Payment resumed by this certification (docs/domain.md §3)."""

    label: str  # which entitlement
    resume_month: date  # first day of the month payment resumes from
    back_paid_months: tuple[date, ...] = ()  # first days of the months owed (补发)
    back_pay_amount: str | None = None  # formatted amount when the monthly amount is known


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """The counter receipt 认证回执."""

    receipt_no: str
    name: str
    id_number: str  # printed masked, always
    certified_on: date
    method: str  # a METHOD_ZH code, or Chinese text
    covers: tuple[EntitlementLine, ...] = ()
    resumptions: tuple[Resumption, ...] = ()
    clerk: str = ""         # the clerk's display name (张敏)
    workstation: str = ""   # the machine, for the record; not printed
    printed_on: date | None = None
    note: str = ""
    window: str = ""        # 3号窗口 (station setting window_no), printed beside the clerk


@dataclass(frozen=True, slots=True)
class BatchResult:
    count: int  # forms written
    total: int
    cancelled: bool
    pages: int = 0
    path: str | None = None  # None when cancelled (no partial file is left)
    serials: tuple[str, ...] = field(default=())
