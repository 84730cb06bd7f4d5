from __future__ import annotations

from datetime import date

from desktop.domain.idnumber import make_number, mask
from desktop.printing.data import EntitlementLine, ReceiptData, Resumption
from desktop.printing.receipt import RECEIPT_TITLE, month_ranges_zh, receipt_pdf_bytes, render_receipt

from .conftest import page_count, pdffonts, pdftotext, squash

ID = make_number("152202", date(1950, 3, 1), 101)


def _receipt(**kw) -> ReceiptData:
    base = dict(receipt_no="R20261129-0001", name="张秀兰", id_number=ID,
                certified_on=date(2026, 11, 29), method="counter",
                covers=(EntitlementLine("企业职工基本养老金", date(2027, 11, 29)),
                        EntitlementLine("工伤保险供养亲属抚恤金", date(2027, 6, 30))),
                clerk="李娜", workstation="窗口3", printed_on=date(2026, 11, 29))
    base.update(kw)
    return ReceiptData(**base)


def test_receipt_text(tmp_path, bureau):
    out = tmp_path / "r.pdf"
    assert render_receipt(_receipt(), bureau, out) == str(out)
    assert page_count(out) == 1
    text = squash(pdftotext(out))
    for s in (RECEIPT_TITLE, bureau.name, "张秀兰", mask(ID), "2026年11月29日", "现场认证",
              "企业职工基本养老金", "2027年11月29日", "工伤保险供养亲属抚恤金", "2027年6月30日",
              "0482-2773972", "R20261129-0001", "李娜"):
        assert s in text, s
    assert ID not in text  # always masked on the receipt
    assert "恢复发放" not in text
    assert all(r["emb"] == "yes" for r in pdffonts(out))


def test_receipt_for_a_resumed_person(tmp_path, bureau):
    months = tuple(date(2026, m, 1) for m in (8, 9, 10, 11))
    r = _receipt(method="remote_assist", resumptions=(
        Resumption("企业职工基本养老金", date(2026, 12, 1), months, "12,345.60"),))
    out = tmp_path / "r.pdf"
    out.write_bytes(receipt_pdf_bytes(r, bureau))
    text = squash(pdftotext(out))
    assert "异地认证" in text
    assert "自2026年12月起恢复发放" in text
    assert "补发2026年8月至2026年11月，共4个月" in text
    assert "12,345.60" in text


def test_month_ranges():
    ms = [date(2026, 8, 1), date(2026, 9, 15), date(2026, 10, 1), date(2027, 1, 1),
          date(2025, 12, 1), date(2026, 1, 1), date(2026, 9, 1)]
    assert month_ranges_zh(ms) == "2025年12月至2026年1月、2026年8月至2026年10月、2027年1月"
    assert month_ranges_zh([]) == ""
    assert month_ranges_zh([date(2026, 5, 1)]) == "2026年5月"


def test_receipt_prints_the_clerks_name_and_window_never_the_machine(tmp_path, bureau):
    out = tmp_path / "r.pdf"
    render_receipt(_receipt(clerk="张敏", workstation="vm-43fcba04", window="3号窗口"), bureau, out)
    text = squash(pdftotext(out))
    assert "张敏（3号窗口）" in text
    assert "vm-43fcba04" not in text and "zhangmin" not in text
