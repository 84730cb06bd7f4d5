"""The counter receipt 认证回执: who was certified, when and how, what it covers, the next
deadline per entitlement, and — for a resumed person — the resumption month and back-paid months.
Printed on the upper half of an A4 sheet (cut line below); the ID number is always masked.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.idnumber import mask
from desktop.printing.common import Output, Pen, open_output, ym_zh, ymd_zh
from desktop.printing.data import METHOD_ZH, BureauInfo, ReceiptData
from desktop.printing.fonts import register_cjk_font

RECEIPT_TITLE = "领取社会保险待遇资格认证回执"
PAGE_W, PAGE_H = A4
L, R = 18.0, 192.0


def month_ranges_zh(months: Sequence[date]) -> str:
    """``2026年8月至2026年11月、2027年1月`` — consecutive months collapsed into ranges."""
    ms = sorted({(d.year, d.month) for d in months})
    if not ms:
        return ""
    parts, start, prev = [], ms[0], ms[0]

    def fmt(a, b):
        sa = f"{a[0]}年{a[1]}月"
        return sa if a == b else f"{sa}至{b[0]}年{b[1]}月"

    for y, m in ms[1:]:
        nxt = (prev[0] + (prev[1] == 12), prev[1] % 12 + 1)
        if (y, m) != nxt:
            parts.append(fmt(start, prev))
            start = (y, m)
        prev = (y, m)
    parts.append(fmt(start, prev))
    return "、".join(parts)


def _row(c: Canvas, pen: Pen, top: float, h: float, cells, widths, *, header=False):
    x = L
    if header:
        c.setFillGray(0.88)
        c.rect(L * mm, pen.y(top + h), (R - L) * mm, h * mm, stroke=0, fill=1)
        c.setFillGray(0)
    c.setLineWidth(0.6)
    c.rect(L * mm, pen.y(top + h), (R - L) * mm, h * mm, stroke=1, fill=0)
    for i, (s, w) in enumerate(zip(cells, widths)):
        if i:
            c.line(x * mm, pen.y(top), x * mm, pen.y(top + h))
        is_label = header or i % 2 == 0 and len(cells) == 4
        if is_label:
            pen.text(x + w / 2, top + h / 2 + 1.3, s, 10, anchor="center", bold=header)
        else:
            pen.fit(x + 2.5, top, s, w - 5, h, 11)
        x += w


def _draw(c: Canvas, pen: Pen, r: ReceiptData, bureau: BureauInfo) -> None:
    c.setFillGray(0)
    pen.text(105, 15, bureau.name, 12, anchor="center")
    pen.spaced(105, 26, RECEIPT_TITLE, 17, 0.5, bold=True)
    pen.text(L, 35, f"回执编号：{r.receipt_no}", 9.5)
    pen.text(R, 35, f"打印日期：{ymd_zh(r.printed_on or r.certified_on)}", 9.5, anchor="right")
    top = 38.0
    widths4 = (26, 61, 26, 61)
    method = METHOD_ZH.get(r.method, r.method)
    _row(c, pen, top, 9, ("姓　　名", r.name, "公民身份号码", mask(r.id_number)), widths4)
    top += 9
    _row(c, pen, top, 9, ("认证日期", ymd_zh(r.certified_on), "认证方式", method), widths4)
    top += 9
    _row(c, pen, top, 9, ("认证结果", "资格认证通过，待遇领取资格有效", "经办人",
                          r.clerk + (f"（{r.window}）" if r.window else "")), widths4)
    top += 16
    pen.text(L, top, "本次认证涵盖的待遇及下次认证截止日期", 10.5, bold=True)
    top += 2.5
    w2 = (108, 66)
    _row(c, pen, top, 8, ("待遇项目", "下次认证截止日期"), w2, header=True)
    top += 8
    for line in r.covers or ():
        _row(c, pen, top, 8, (line.label, ymd_zh(line.next_deadline) if line.next_deadline
                              else "按规定周期认证"), w2)
        top += 8
    if r.resumptions:
        top += 5.5
        pen.text(L, top, "恢复发放与补发", 10.5, bold=True)
        top += 1.5
        for res in r.resumptions:
            s = f"{res.label}：自{ym_zh(res.resume_month)}起恢复发放"
            if res.back_paid_months:
                n = len({(d.year, d.month) for d in res.back_paid_months})
                s += f"；补发{month_ranges_zh(res.back_paid_months)}，共{n}个月"
                if res.back_pay_amount:
                    s += f"，补发金额{res.back_pay_amount}元"
            s += "。"
            top = pen.paragraph(L + 2, top + 5, s, R - L - 2, 10, 1.45, hanging="• ") - 5 + 1
        top += 4
    if r.note:
        top = pen.paragraph(L, top + 6, r.note, R - L, 9.5, 1.45) - 6
    top += 7
    c.setFillGray(0.15)
    tips = ("温馨提示：请在截止日期前再次进行资格认证，可使用“内蒙古人社”手机APP认证，或携带身份证到"
            f"{bureau.counter_address}办理；逾期未认证的，将按照有关规定暂停发放待遇。")
    top = pen.paragraph(L, top, tips, R - L, 9, 1.45)
    pen.text(L, top + 1, f"咨询电话：{bureau.phone}", 9.5, bold=True)
    pen.text(R, top + 1, f"{bureau.name}（盖章）", 10, anchor="right")
    c.setFillGray(0)
    cut = max(top + 10, 148.5)
    c.setDash(3, 3)
    c.setLineWidth(0.4)
    c.setStrokeGray(0.5)
    c.line(8 * mm, pen.y(cut), 202 * mm, pen.y(cut))
    c.setDash()
    c.setStrokeGray(0)
    c.setFillGray(0.5)
    pen.text(105, cut + 3.5, "（沿虚线剪下）", 7.5, anchor="center")
    c.setFillGray(0)


def render_receipt(receipt: ReceiptData, bureau: BureauInfo, out: Output, *,
                   font_override: str | None = None) -> str | None:
    """Write the receipt PDF; returns the path (None when ``out`` is a file object)."""
    font = register_cjk_font(font_override).name
    with open_output(out) as (target, commit):
        c = Canvas(target, pagesize=A4, pageCompression=1, initialFontName=font)
        c.setTitle(RECEIPT_TITLE)
        c.setAuthor(bureau.name)
        c.setCreator("CertDesk")
        _draw(c, Pen(c, font, PAGE_H), receipt, bureau)
        c.showPage()
        c.save()
        return commit()


def receipt_pdf_bytes(receipt: ReceiptData, bureau: BureauInfo, **kw) -> bytes:
    buf = io.BytesIO()
    render_receipt(receipt, bureau, buf, **kw)
    return buf.getvalue()
