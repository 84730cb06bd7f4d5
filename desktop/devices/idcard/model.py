"""Frozen card data: what crosses from the device thread to the GUI and the services."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from desktop.domain.idnumber import mask

RESIDENT, HK_MO_TW, FOREIGN_2017, FOREIGN_2023 = "resident", "hk_mo_tw", "foreign_2017", "foreign_2023"
CARD_TYPE_ZH = {
    RESIDENT: "居民身份证",
    HK_MO_TW: "港澳台居民居住证",
    FOREIGN_2017: "外国人永久居留身份证（2017版）",
    FOREIGN_2023: "外国人永久居留身份证（2023版）",
}
LONG_TERM = "长期"

# photo_status values
PHOTO_NOT_DECODED = "not_decoded"  # the WLT was read; no decoder has run yet
PHOTO_OK = "ok"
PHOTO_UNAVAILABLE = "unavailable"  # no vendor decoder configured / loadable
PHOTO_FAILED = "failed"  # the decoder ran and refused (e.g. not licensed for this reader)
PHOTO_NONE = "none"  # nothing to show (manual entry, card without photo)
MSG_PHOTO_UNAVAILABLE = "无法显示芯片照片：未配置照片解码库（原始照片数据已保留）"


@dataclass(frozen=True, slots=True)
class CardIssue:
    """A consistency problem surfaced to the clerk; the data is never silently 'fixed'."""

    code: str  # birth_mismatch, sex_mismatch, expired, not_yet_valid, id_number_invalid, …
    message_zh: str


@dataclass(frozen=True, slots=True)
class IdCard:
    card_type: str
    name: str
    sex: str  # 男 / 女 / 未知 / 未说明 / 未知(x)
    sex_code: str
    birth_date: str  # "YYYY-MM-DD", or the raw text when the card holds no valid date
    id_number: str
    valid_from: str
    valid_to: str  # "YYYY-MM-DD" or "长期"
    nation: str | None = None  # 民族 (resident cards only)
    nation_code: str | None = None
    address: str = ""
    issuer: str = ""  # 签发机关 (resident/J) or 受理机关代码 (I)
    name_en: str | None = None
    nationality: str | None = None  # 3-letter country code (I, Y)
    pass_number: str | None = None  # 通行证号码 (J)
    issue_count: str | None = None  # 签发次数 (J)
    card_version: str | None = None  # 证件版本号 (I)
    renewal_count: str | None = None  # 换证次数 (Y)
    previous_number_link: str | None = None  # Y: link to the old 15-char number
    appended_addresses: tuple[str, ...] = ()  # 追加住址 (30 03), newest last
    source: str = ""  # driver that produced it: sam_serial, sdtapi, termb, simulated, manual
    issues: tuple[CardIssue, ...] = ()
    raw_text: bytes = field(default=b"", repr=False)  # the 256-byte UCS-2 block, for audit
    photo_wlt: bytes = field(default=b"", repr=False)  # raw WLT, kept even when undecodable
    fingerprint: bytes = field(default=b"", repr=False)
    photo_bmp: bytes | None = field(default=None, repr=False)
    photo_status: str = PHOTO_NOT_DECODED
    photo_message_zh: str = ""

    @property
    def card_type_zh(self) -> str:
        return CARD_TYPE_ZH.get(self.card_type, self.card_type)

    @property
    def masked_number(self) -> str:
        return mask(self.id_number)

    @property
    def current_address(self) -> str:
        return self.appended_addresses[-1] if self.appended_addresses else self.address

    def with_photo(self, status: str, bmp: bytes | None = None, message_zh: str = "") -> "IdCard":
        return replace(self, photo_status=status, photo_bmp=bmp, photo_message_zh=message_zh)

    def __repr__(self) -> str:  # never leak names, numbers or photos into logs
        return (
            f"IdCard(type={self.card_type}, number={self.masked_number}, source={self.source}, "
            f"photo={self.photo_status}, issues={[i.code for i in self.issues]})"
        )

    __str__ = __repr__

    def to_json(self) -> dict:
        """The CLI / audit shape (full data: only for the operator, never for logs)."""
        doc = {
            "card_type": self.card_type,
            "name": self.name,
            "sex": self.sex,
            "nation": self.nation,
            "birth_date": self.birth_date,
            "address": self.address,
            "id_number": self.id_number,
            "issuer": self.issuer,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "photo_bytes": len(self.photo_wlt),
            "fingerprint_bytes": len(self.fingerprint),
            "photo_status": self.photo_status,
        }
        for key in ("name_en", "nationality", "pass_number", "issue_count", "card_version",
                    "renewal_count", "previous_number_link"):
            value = getattr(self, key)
            if value is not None:
                doc[key] = value
        if self.sex_code:
            doc["sex_code"] = self.sex_code
        if self.nation_code is not None:
            doc["nation_code"] = self.nation_code
        if self.appended_addresses:
            doc["appended_addresses"] = list(self.appended_addresses)
        doc["issues"] = [{"code": i.code, "message": i.message_zh} for i in self.issues]
        return doc
