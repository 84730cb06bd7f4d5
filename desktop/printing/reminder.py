"""认证提醒告知书: a one-page letter to a resident whose certification deadline is near.

A batch is ONE PDF, one A4 page per resident, ready for window envelopes (the address block sits
where a DL window envelope shows it). The text depends on how the resident can certify: at the
counter or in the app (local), with the enclosed assist form (remote), or by a home visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from desktop.printing.assist_form import FRAUD_WARNING
from desktop.printing.common import Output, Pen, is_cancelled, open_output, ymd_zh
from desktop.printing.fonts import register_cjk_font

TITLE = "领取社会保险待遇资格认证提醒告知书"
PAGE_W, PAGE_H = A4

WAYS = {
    "local": [
        "携带本人居民身份证到{counter}办理现场认证（刷脸或人工核验均可）；",
        "或在手机“内蒙古人社”App中选择“{category}”自助完成认证；子女可协助操作，但须本人出镜。",
    ],
    "remote": [
        "您登记的居住地在外地。请持随信附寄的《领取社会保险待遇资格协助认证表》，到居住地社保经办机构、"
        "街道（乡镇）社区服务中心或居（村）委会认证并盖章，于截止日期前寄回本局；",
        "也可在手机“内蒙古人社”App中自助完成认证。",
    ],
    "home_visit": [
        "您登记为行动不便人员。请拨打咨询电话预约上门认证，工作人员将携带设备到您家中办理；",
        "家属也可协助您在手机“内蒙古人社”App中完成认证。",
    ],
}


@dataclass(frozen=True, slots=True)
class Letter:
    name: str
    masked_id: str
    address: str
    cohorts_zh: str
    deadline: date
    suspend_from: str  # YYYY-MM
    channel: str  # local | remote | home_visit


def _month_zh(ym: str) -> str:
    y, m = ym.split("-")
    return f"{y}年{int(m)}月"


def draw_letter(c: Canvas, pen: Pen, letter: Letter, bureau: dict, issued: date) -> None:
    # address block (DL window envelope: 20 mm from the left, 45–80 mm from the top)
    pen.text(22, 50, letter.address[:40] or "（地址不详）", 11)
    pen.text(22, 58, f"{letter.name} 收", 13, bold=True)
    pen.text(22, 66, f"身份证号码：{letter.masked_id}", 9.5)

    pen.text(PAGE_W / 2 / 2.8346, 98, TITLE, 16, anchor="center", bold=True)
    y = 112.0
    pen.text(22, y, f"{letter.name}同志：", 11.5)
    y += 9
    body = (f"根据领取社会保险待遇资格认证的有关规定，您领取的{letter.cohorts_zh}待遇需要按期进行资格认证。"
            f"您本期认证的截止日期为{ymd_zh(letter.deadline)}。逾期未认证的，将自{_month_zh(letter.suspend_from)}起"
            "暂停发放待遇；认证后次月恢复发放，并补发暂停期间的待遇。")
    y = pen.paragraph(22, y, body, 166, 11, first_indent=8)
    y += 3
    pen.text(22, y, "您可以通过以下方式认证：", 11, bold=True)
    y += 7.5
    counter = bureau.get("counter") or "市社保中心一楼大厅综合受理窗口"
    for i, way in enumerate(WAYS[letter.channel], 1):
        text = way.format(counter=counter, category=letter.cohorts_zh)
        y = pen.paragraph(22, y, text, 166, 11, hanging=f"{i}. ") + 1.5
    if letter.channel == "remote" and bureau.get("address"):
        y = pen.paragraph(22, y + 1, f"协助认证表寄回地址：{bureau['address']}（邮编 {bureau.get('postcode', '')}）",
                          166, 10.5) + 1
    y += 3
    y = pen.paragraph(22, y, FRAUD_WARNING, 166, 9, first_indent=8)
    y += 5
    pen.text(22, y, f"咨询电话：{bureau.get('phone', '')}", 11)
    pen.text(188, 252, bureau.get("name", ""), 11.5, anchor="right")
    pen.text(188, 260, ymd_zh(issued), 11, anchor="right")


def render_letters(letters: Sequence[Letter], out: Output, bureau: dict, issued: date, *,
                   progress: Callable[[int, int], None] | None = None, cancel=None,
                   font_override=None) -> int | None:
    """All letters into one PDF (written atomically). Returns the number of pages, or None when
    cancelled (then no file is left)."""
    font = register_cjk_font(font_override).name
    total = len(letters)
    with open_output(out) as (target, commit):
        c = Canvas(target, pagesize=A4)
        c.setTitle(TITLE)
        c.setAuthor(bureau.get("name", ""))
        pen = Pen(c, font, PAGE_H)
        for i, letter in enumerate(letters, 1):
            if is_cancelled(cancel):
                return None  # nothing is written
            c.setFont(font, 11)
            draw_letter(c, pen, letter, bureau, issued)
            c.showPage()
            if progress and (i % 25 == 0 or i == total):
                progress(i, total)
        c.save()
        commit()
    return total
