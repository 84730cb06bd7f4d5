"""Fixtures for the printing layer: a key, a bureau, synthetic residents, rendered PDFs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desktop.formats import qrsign
from desktop.domain.idnumber import make_number
from desktop.printing.data import BureauInfo, FormData
from tests.pdftools import page_count, pdf_fonts, pdf_text, render_page  # noqa: F401 (used by the tests)

KEY = bytes(range(32))
DEADLINE = date(2026, 12, 31)
ISSUED = date(2026, 11, 29)
NAMES = ["张秀兰", "欧阳建国", "巴特尔", "李淑珍", "王德福"]


@pytest.fixture
def key_provider():
    return qrsign.static_key_provider(KEY)


@pytest.fixture
def bureau() -> BureauInfo:
    return BureauInfo(return_address="内蒙古自治区兴安盟阿尔山市新城街社会保险事业服务中心",
                      return_postcode="137800")


def make_forms(n: int, key_provider, *, start: int = 1) -> list[FormData]:
    out = []
    for i in range(start, start + n):
        idn = make_number("152202", date(1940 + i % 30, 1 + i % 12, 1 + i % 28), i % 1000)
        serial = f"XZ2026-{i:06d}"
        out.append(FormData(
            serial=serial,
            qr_payload=qrsign.make_payload(serial, idn, DEADLINE, key_provider),
            name=NAMES[i % len(NAMES)], sex="F" if i % 2 else "M", id_number=idn,
            category="养老资格认证（企业离退休人员）", phone=f"139{i:08d}",
            address=f"辽宁省大连市沙河口区西安路街道锦绣社区幸福家园小区{i % 40 + 1}号楼3单元502室",
            deadline=DEADLINE, issued_on=ISSUED, postcode="116021"))
    return out


@pytest.fixture
def forms(key_provider) -> list[FormData]:
    return make_forms(3, key_provider)


# poppler's command names, implemented with pypdfium2 / pypdf (tests/pdftools.py): no Debian package
pdftotext = pdf_text
pdffonts = pdf_fonts


def squash(text: str) -> str:
    """Extracted text without whitespace (table cells and wrapped lines break strings)."""
    return "".join(text.split())
