"""The assist form 领取社会保险待遇资格协助认证表 and its notice 告知单 (docs/domain.md §5).

One A4 page per person plus a notice page; a batch of many people is ONE PDF. Everything that is
the same for every person of a batch (grid, labels, the notice's instructions, the bureau's return
address, the fraud warning) is drawn once into PDF form XObjects and referenced from each page; only
the person's data, the dates, the serial and the QR code (one vector path from zxing-cpp's encoder)
are drawn per page. That keeps a batch of 1,000 well above 100 forms/s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desktop.printing.common import (Output, Pen, draw_qr, id_display, is_cancelled,
                                     open_output, ymd_zh)
from desktop.printing.data import SEX_ZH, AddressLabel, BatchResult, BureauInfo, FormData, LabelSheet
from desktop.printing.fonts import register_cjk_font

FORM_TITLE = "领取社会保险待遇资格协助认证表"
NOTICE_TITLE = "领取社会保险待遇资格认证告知单"
CERTIFY_SENTENCE = "经核实，该同志仍健在，符合领取待遇资格。"
FRAUD_WARNING = (
    "领取社会保险待遇人员要确保资格认证的真实性和准确性，本人或他人以欺诈、伪造证明材料等手段领取待遇"
    "或以其他方式骗取社会保险待遇的，按照《社会保险法》第八十八条规定，由社会保险行政部门责令退回骗取的"
    "社会保险金，处骗取金额二倍以上五倍以下的罚款；构成犯罪的，依法追究刑事责任。"
)

PAGE_W, PAGE_H = A4
ProgressFn = Callable[[int, int], None]

# Front page grid (mm from the top-left corner)
X0, X1 = 18.0, 192.0
CA, CB, CC, CD, CE = 18.0, 44.0, 96.0, 120.0, 156.0  # column edges; photo column CE..X1
T0 = 52.0  # table top
HDR = 7.5  # section header height
ROW = 12.0
QR_SIZE = 26.0  # mm, symbol without quiet zone
QR_X, QR_TOP = X1 - QR_SIZE, 8.0


@dataclass(frozen=True, slots=True)
class _NoticeLayout:
    date_top: float


def _cell_label(pen: Pen, x0: float, x1: float, top: float, h: float, s: str, size=10.0):
    pen.text((x0 + x1) / 2, top + h / 2 + size * 0.3528 * 0.36, s, size, anchor="center")


def _hline(c: Canvas, pen: Pen, x0: float, x1: float, top: float, width=0.6):
    c.setLineWidth(width)
    c.line(x0 * mm, pen.y(top), x1 * mm, pen.y(top))


def _vline(c: Canvas, pen: Pen, x: float, top0: float, top1: float, width=0.6):
    c.setLineWidth(width)
    c.line(x * mm, pen.y(top0), x * mm, pen.y(top1))


def _section(c: Canvas, pen: Pen, top: float, title: str, note: str = "") -> float:
    c.setFillGray(0.86)
    c.rect(X0 * mm, pen.y(top + HDR), (X1 - X0) * mm, HDR * mm, stroke=0, fill=1)
    c.setFillGray(0)
    pen.text(X0 + 2.5, top + 5.2, title, 10.5, bold=True)
    if note:
        c.setFillGray(0.25)
        pen.text(X1 - 2.5, top + 5.0, note, 8, anchor="right")
        c.setFillGray(0)
    _hline(c, pen, X0, X1, top + HDR)
    return top + HDR


def _underline(c: Canvas, pen: Pen, x0: float, x1: float, top: float):
    c.setLineWidth(0.5)
    c.line(x0 * mm, pen.y(top + 1.2), x1 * mm, pen.y(top + 1.2))


def _draw_front_template(c: Canvas, pen: Pen, bureau: BureauInfo) -> None:
    c.setStrokeGray(0)
    c.setFillGray(0)
    pen.text(105, 16, bureau.name, 12.5, anchor="center")
    pen.spaced(100, 28.5, FORM_TITLE, 19, 0.6, bold=True)
    pen.text(X0, 41.5, "编号：", 10.5)
    pen.text(X0 + 66, 41.5, "打印日期：", 10.5)
    c.setFillGray(0.3)
    pen.text(QR_X + QR_SIZE / 2, QR_TOP + QR_SIZE + 3.6, "回收扫码 请勿涂改", 7, anchor="center")
    c.setFillGray(0)
    pen.text(X0, 48.2, "认证截止日期：", 10.5, bold=True)

    # --- 一、待遇领取人信息
    top = _section(c, pen, T0, "一、待遇领取人信息", "由社会保险经办机构打印，请核对")
    r = [top + i * ROW for i in range(6)]  # 5 rows
    for t in r[1:]:
        x_end = CE if t < r[4] else X1
        _hline(c, pen, X0, x_end, t)
    labels = [("姓　　名", CA, CB, r[0]), ("性　别", CC, CD, r[0]), ("公民身份号码", CA, CB, r[1]),
              ("认证类别", CA, CB, r[2]), ("联系电话", CC, CD, r[2]), ("现居住地址", CA, CB, r[3]),
              ("邮政编码", CA, CB, r[4]), ("认证截止日期", CC, CD, r[4])]
    for s, x0, x1, t in labels:
        _cell_label(pen, x0, x1, t, ROW, s)
    _vline(c, pen, CB, r[0], r[5])
    _vline(c, pen, CC, r[0], r[1])
    _vline(c, pen, CD, r[0], r[1])
    _vline(c, pen, CC, r[2], r[3])
    _vline(c, pen, CD, r[2], r[3])
    _vline(c, pen, CC, r[4], r[5])
    _vline(c, pen, CD, r[4], r[5])
    _vline(c, pen, CE, r[0], r[4])
    # photo box 25 x 35 mm
    px, pw, ph = (CE + X1) / 2 - 12.5, 25.0, 35.0
    ptop = r[0] + (r[4] - r[0] - ph) / 2
    c.setDash(2, 2)
    c.setLineWidth(0.5)
    c.rect(px * mm, pen.y(ptop + ph), pw * mm, ph * mm, stroke=1, fill=0)
    c.setDash()
    c.setFillGray(0.35)
    for i, s in enumerate(("粘贴本人", "近期一寸", "免冠照片")):
        pen.text((CE + X1) / 2, ptop + 13 + i * 5, s, 9, anchor="center")
    c.setFillGray(0)
    top = r[5]

    # --- 二、本人承诺
    _hline(c, pen, X0, X1, top)
    top = _section(c, pen, top, "二、本人承诺")
    pen.paragraph(X0 + 3, top + 6.5, "本人承诺：本人仍健在，以上信息真实、准确，并已知晓《告知单》所列事项；"
                  "如有虚假，愿承担相应的法律责任。", X1 - X0 - 6, 10)
    y = top + 20.5
    w = pen.text(X0 + 3, y, "本人签字（或按手印）：", 10)
    _underline(c, pen, X0 + 3 + w, X0 + 3 + w + 30, y)
    pen.text(X0 + 78, y, "代办人签字：", 10)
    _underline(c, pen, X0 + 99, X0 + 124, y)
    pen.text(X1 - 3, y, "日期：　　　年　　月　　日", 10, anchor="right")
    top += 26.5

    # --- 三、协助认证机构意见
    _hline(c, pen, X0, X1, top)
    top = _section(c, pen, top, "三、协助认证机构意见", "由居住地认证机构核实本人后填写并加盖公章")
    pen.text(X0 + 3, top + 6.5, "认证机构类别：", 9.5)
    opts = ("社会保险经办机构", "街道（乡镇）社会保障服务中心", "社区居民委员会")
    x = X0 + 27
    for s in opts:
        c.setLineWidth(0.6)
        c.rect(x * mm, pen.y(top + 6.6), 3 * mm, 3 * mm, stroke=1, fill=0)
        x += 4.2
        x += pen.text(x, top + 6.5, s, 9.5) + 5
    pen.text(X0 + 8, top + 22, CERTIFY_SENTENCE, 15, bold=True)
    y = top + 37
    w = pen.text(X0 + 3, y, "认证机构名称：", 10.5)
    _underline(c, pen, X0 + 3 + w, 138, y)
    y = top + 49
    w = pen.text(X0 + 3, y, "认证人签字：", 10.5)
    _underline(c, pen, X0 + 3 + w, 78, y)
    w = pen.text(81, y, "联系电话：", 10.5)
    _underline(c, pen, 81 + w, 138, y)
    y = top + 61
    pen.text(X0 + 3, y, "认证日期：　　　　年　　月　　日", 10.5)
    # stamp area
    cx, cy, rad = 166.0, top + 40.0, 20.0
    c.setDash(1.5, 2.5)
    c.setStrokeGray(0.45)
    c.setLineWidth(0.6)
    c.circle(cx * mm, pen.y(cy), rad * mm, stroke=1, fill=0)
    c.setDash()
    c.setStrokeGray(0)
    c.setFillGray(0.4)
    pen.text(cx, cy + 1.5, "（盖　章）", 10, anchor="center")
    c.setFillGray(0)
    top += 68

    # --- 四、回收登记
    _hline(c, pen, X0, X1, top)
    top = _section(c, pen, top, "四、回收登记", f"认证表寄回后由{bureau.name}填写")
    y = top + 10.5
    pen.text(X0 + 3, y, "收到日期：　　　年　　月　　日", 10)
    w = pen.text(X0 + 70, y, "经办人：", 10)
    _underline(c, pen, X0 + 70 + w, X0 + 108, y)
    pen.text(X0 + 113, y, "审核结果：", 10)
    c.setLineWidth(0.6)
    for i, s in enumerate(("通过", "退回")):
        bx = X0 + 131 + i * 19
        c.rect(bx * mm, pen.y(y + 0.1), 3 * mm, 3 * mm, stroke=1, fill=0)
        pen.text(bx + 4.2, y, s, 10)
    top += 16
    c.setLineWidth(1.2)
    c.rect(X0 * mm, pen.y(top), (X1 - X0) * mm, (top - T0) * mm, stroke=1, fill=0)

    # --- notes
    c.setFillGray(0.2)
    y = top + 6
    pen.text(X0, y, "填表说明：", 8.5, bold=True)
    notes = (
        "1. 本表一人一份。请本人持本表和居民身份证（或社会保障卡）到居住地的社会保险经办机构、街道（乡镇）"
        "社会保障服务中心（党群服务中心）或社区居民委员会任一机构办理，经核实后填写第三栏并加盖公章。",
        "2. 右上角二维码和编号用于回收登记，请保持清晰完整，勿涂改、折叠或污损；涂改无效。",
        "3. 办理方法、寄回地址和截止日期见《告知单》。",
    )
    y += 5
    for s in notes:
        y = pen.paragraph(X0, y, s, X1 - X0, 8.5, 1.45)
    c.setFillGray(0)


def _draw_notice_template(c: Canvas, pen: Pen, bureau: BureauInfo) -> _NoticeLayout:
    L, R = 22.0, 188.0
    W = R - L
    c.setFillGray(0)
    c.setStrokeGray(0)
    pen.text(105, 17, bureau.name, 12.5, anchor="center")
    pen.spaced(105, 29, NOTICE_TITLE, 19, 0.6, bold=True)
    y = pen.paragraph(L, 58, "为确保社会保险待遇按时发放，保障社会保险基金安全，根据《领取社会保险待遇资格确认经办规程"
                      "（暂行）》有关规定，领取社会保险待遇人员须按认证周期进行待遇领取资格认证。您目前居住在异地，"
                      "可持所附《领取社会保险待遇资格协助认证表》就近办理协助认证。", W, 11, 1.6,
                      first_indent=2 * 11 * 0.3528)
    # deadline box (text drawn per person)
    box_top = 78.0
    c.setFillGray(0.93)
    c.setLineWidth(1)
    c.rect(L * mm, pen.y(box_top + 20), W * mm, 20 * mm, stroke=1, fill=1)
    c.setFillGray(0)
    pen.paragraph(L + 4, box_top + 13.5, "请在此日期前完成认证并将认证表寄回。逾期未认证的，将按照有关规定暂停发放待遇；"
                  "完成认证后从次月起恢复发放，并补发暂停发放月份的待遇。", W - 8, 9.5, 1.45)
    y = box_top + 30
    pen.text(L, y, "一、办理步骤", 12, bold=True)
    steps = (
        "在认证表“待遇领取人信息”栏粘贴本人近期一寸免冠照片，核对个人信息，并在“本人承诺”栏签字（或按手印）。",
        "本人持认证表和居民身份证（或社会保障卡）到居住地的社会保险经办机构、街道（乡镇）社会保障服务中心"
        "（党群服务中心）或社区居民委员会任一机构，由工作人员核实本人后填写“协助认证机构意见”栏，"
        "写明认证人姓名、联系电话和日期，并加盖公章。",
        "将盖章后的认证表原件在截止日期前邮寄至下列地址。请勿涂改、折叠或污损认证表右上角的二维码。",
        "也可使用“内蒙古人社”手机APP进行手机认证（资格认证→认证）；手机认证成功的，无需再寄回本表。"
        f"行动不便的，可电话预约上门认证。",
    )
    y += 8
    for i, s in enumerate(steps, 1):
        y = pen.paragraph(L + 2, y, s, W - 2, 10.5, 1.55, hanging=f"{i}. ") + 1.2
    y += 4
    pen.text(L, y, "二、寄回地址", 12, bold=True)
    y += 4
    rows = [("收件单位", f"{bureau.name}　{bureau.return_recipient}".strip()),
            ("邮寄地址", bureau.return_address or "（见本局通知）"),
            ("邮政编码", bureau.return_postcode or ""),
            ("联系电话", bureau.phone)]
    rh = 8.5
    c.setLineWidth(0.6)
    c.rect(L * mm, pen.y(y + rh * len(rows)), W * mm, rh * len(rows) * mm, stroke=1, fill=0)
    c.line((L + 26) * mm, pen.y(y), (L + 26) * mm, pen.y(y + rh * len(rows)))
    for i, (k, v) in enumerate(rows):
        t = y + i * rh
        if i:
            _hline(c, pen, L, R, t)
        _cell_label(pen, L, L + 26, t, rh, k, 10)
        pen.fit(L + 29, t, v, W - 31, rh, 10.5, 7)
    y += rh * len(rows) + 10
    w = pen.text(L, y, "三、咨询电话：", 12, bold=True)
    pen.text(L + w, y, bureau.phone, 12, bold=True)
    y += 10
    pen.text(L, y, "四、风险提示", 12, bold=True)
    y += 3
    box_h = 27.0
    c.setLineWidth(1.4)
    c.rect(L * mm, pen.y(y + box_h), W * mm, box_h * mm, stroke=1, fill=0)
    pen.paragraph(L + 4, y + 7, FRAUD_WARNING, W - 8, 10.5, 1.6, first_indent=2 * 10.5 * 0.3528)
    y += box_h + 12
    pen.text(R - 6, y, bureau.name, 11.5, anchor="right")
    return _NoticeLayout(date_top=y + 7.5)


class _Writer:
    """Draws forms onto one canvas; templates are built once per canvas."""

    def __init__(self, c: Canvas, bureau: BureauInfo, font: str):
        self.c, self.bureau, self.font = c, bureau, font
        self.pen = Pen(c, font, PAGE_H)
        c.beginForm("cd_front")
        _draw_front_template(c, Pen(c, font, PAGE_H), bureau)
        c.endForm()
        c.beginForm("cd_notice")
        self.notice = _draw_notice_template(c, Pen(c, font, PAGE_H), bureau)
        c.endForm()

    def form(self, f: FormData) -> None:
        c, pen, b = self.c, self.pen, self.bureau
        # page 1: the form
        c.doForm("cd_front")
        c.setFillGray(0)
        pen.text(X0 + 11, 41.5, f.serial, 11, bold=True)
        pen.text(X0 + 84, 41.5, ymd_zh(f.issued_on), 10.5)
        pen.text(X0 + 25, 48.2, ymd_zh(f.deadline), 10.5, bold=True)
        draw_qr(c, f.qr_payload, QR_X * mm, pen.y(QR_TOP + QR_SIZE), QR_SIZE * mm)
        r0 = T0 + HDR
        pad = 2.5
        pen.fit(CB + pad, r0, f.name, CC - CB - 2 * pad, ROW, 12)
        pen.fit(CD + pad, r0, SEX_ZH.get(f.sex, f.sex), CE - CD - 2 * pad, ROW, 12)
        pen.fit(CB + pad, r0 + ROW, id_display(f.id_number, b.full_id_number),
                CE - CB - 2 * pad, ROW, 12.5)
        pen.fit(CB + pad, r0 + 2 * ROW, f.category, CC - CB - 2 * pad, ROW, 10.5)
        pen.fit(CD + pad, r0 + 2 * ROW, f.phone, CE - CD - 2 * pad, ROW, 10.5)
        pen.fit(CB + pad, r0 + 3 * ROW, f.address, CE - CB - 2 * pad, ROW, 10.5)
        pen.fit(CB + pad, r0 + 4 * ROW, f.postcode, CC - CB - 2 * pad, ROW, 10.5)
        pen.fit(CD + pad, r0 + 4 * ROW, ymd_zh(f.deadline), X1 - CD - 2 * pad, ROW, 11)
        c.setFillGray(0.3)
        pen.text(105, 289, f"{b.name}　编号 {f.serial}　第1页 共2页", 8, anchor="center")
        c.showPage()
        # page 2: the notice
        c.doForm("cd_notice")
        c.setFillGray(0)
        pen.text(188, 38, f"编号：{f.serial}", 9.5, anchor="right")
        pen.text(22, 48, f"{f.name}　同志：", 12)
        pen.text(26, 78 + 7.5, "您本次资格认证的截止日期：", 12.5, bold=True)
        pen.text(26 + 57.5, 78 + 7.5, ymd_zh(f.deadline), 14, bold=True)
        pen.text(188 - 6, self.notice.date_top, ymd_zh(f.issued_on), 11, anchor="right")
        c.setFillGray(0.3)
        pen.text(105, 289, f"{b.name}　编号 {f.serial}　第2页 共2页", 8, anchor="center")
        c.showPage()


def _new_canvas(target, title: str, bureau: BureauInfo, font: str) -> Canvas:
    c = Canvas(target, pagesize=A4, pageCompression=1, invariant=0, initialFontName=font)
    c.setTitle(title)
    c.setAuthor(bureau.name)
    c.setCreator("CertDesk")
    c.setSubject(title)
    return c


def render_forms(forms: Sequence[FormData], bureau: BureauInfo, out: Output, *,
                 progress: ProgressFn | None = None, cancel=None,
                 font_override: str | None = None) -> BatchResult:
    """Write the forms (2 pages each) into ONE PDF at ``out`` (path or binary file).

    ``progress(done, total)`` is called after each form; ``cancel`` is a callable returning True
    (or a ``threading.Event``) checked before each form: when cancelled, nothing is written (a path
    is left untouched) and the result has ``cancelled=True``. Raises
    :class:`desktop.printing.fonts.FontNotFound` when no CJK font can be embedded.
    """
    if not forms:
        raise ValueError("no forms to print")
    font = register_cjk_font(font_override).name
    total = len(forms)
    with open_output(out) as (target, commit):
        c = _new_canvas(target, FORM_TITLE, bureau, font)
        w = _Writer(c, bureau, font)
        for i, f in enumerate(forms):
            if is_cancelled(cancel):
                return BatchResult(i, total, True, 0, None, ())
            w.form(f)
            if progress is not None:
                progress(i + 1, total)
        if is_cancelled(cancel):
            return BatchResult(total, total, True, 0, None, ())
        c.save()
        path = commit()
    return BatchResult(total, total, False, 2 * total, path, tuple(f.serial for f in forms))


def render_form(form: FormData, bureau: BureauInfo, out: Output, **kw) -> BatchResult:
    """One person's form and notice."""
    return render_forms([form], bureau, out, **kw)


def form_pdf_bytes(forms: Sequence[FormData], bureau: BureauInfo, **kw) -> bytes:
    import io

    buf = io.BytesIO()
    render_forms(forms, bureau, buf, **kw)
    return buf.getvalue()


# --------------------------------------------------------------------------- labels

def label_for(form: FormData) -> AddressLabel:
    return AddressLabel(form.name, form.address, form.postcode, form.phone, form.serial)


def return_label(bureau: BureauInfo) -> AddressLabel:
    """A label addressed to the bureau (for a prepaid return envelope)."""
    return AddressLabel(bureau.name, f"{bureau.return_address}　{bureau.return_recipient}".strip(),
                        bureau.return_postcode, bureau.phone, "")


def render_labels(labels: Sequence[AddressLabel], out: Output, *, sender: BureauInfo | None = None,
                  sheet: LabelSheet = LabelSheet(), progress: ProgressFn | None = None,
                  cancel=None, font_override: str | None = None) -> BatchResult:
    """Envelope address labels on A4 label sheets (``sheet`` gives the layout)."""
    if not labels:
        raise ValueError("no labels to print")
    font = register_cjk_font(font_override).name
    total = len(labels)
    with open_output(out) as (target, commit):
        c = Canvas(target, pagesize=A4, pageCompression=1, initialFontName=font)
        c.setTitle("信封地址标签")
        c.setCreator("CertDesk")
        pen = Pen(c, font, PAGE_H)
        pages = 0
        for i, lab in enumerate(labels):
            if is_cancelled(cancel):
                return BatchResult(i, total, True, 0, None)
            k = i % sheet.per_page
            if k == 0 and i:
                c.showPage()
            if k == 0:
                pages += 1
            row, col = divmod(k, sheet.columns)
            x = sheet.left_margin + col * (sheet.label_width + sheet.column_gap)
            top = sheet.top_margin + row * (sheet.label_height + sheet.row_gap)
            _draw_label(c, pen, lab, x, top, sheet, sender)
            if progress is not None:
                progress(i + 1, total)
        c.showPage()
        c.save()
        path = commit()
    return BatchResult(total, total, False, pages, path, tuple(l.reference for l in labels))


def _draw_label(c: Canvas, pen: Pen, lab: AddressLabel, x: float, top: float,
                sheet: LabelSheet, sender: BureauInfo | None) -> None:
    w, h = sheet.label_width, sheet.label_height
    if sheet.outline:
        c.setLineWidth(0.3)
        c.setStrokeGray(0.6)
        c.roundRect(x * mm, pen.y(top + h), w * mm, h * mm, 2 * mm, stroke=1, fill=0)
        c.setStrokeGray(0)
    c.setFillGray(0)
    # postcode boxes (Chinese envelope style)
    bx, by, bs = x + 5, top + 3.5, 5.2
    c.setLineWidth(0.5)
    code = (lab.postcode or "")[:6]
    for j in range(6):
        c.rect((bx + j * (bs + 1)) * mm, pen.y(by + bs), bs * mm, bs * mm, stroke=1, fill=0)
        if j < len(code):
            pen.text(bx + j * (bs + 1) + bs / 2, by + bs - 1.3, code[j], 11, anchor="center")
    if lab.reference:
        c.setFillGray(0.35)
        pen.text(x + w - 4, by + 3.2, lab.reference, 7, anchor="right")
        c.setFillGray(0)
    pen.fit(x + 5, top + 10, lab.address, w - 10, 11, 10.5, 6.5)
    name = f"{lab.name}　收"
    pen.line_fit(x + w / 2, top + 28, name, w - 10, 13.5, anchor="center", bold=True)
    if sender is not None and not lab.name.startswith(sender.name):
        c.setFillGray(0.3)
        s = f"寄件：{sender.name}"
        if sender.phone:
            s += f"　{sender.phone}"
        pen.text(x + 5, top + h - 3, s, 6.5)
        c.setFillGray(0)
