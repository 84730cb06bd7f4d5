from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop.formats import qrsign, scan
from desktop.domain.idnumber import mask
from desktop.printing import assist_form
from desktop.printing.assist_form import (CERTIFY_SENTENCE, FORM_TITLE, FRAUD_WARNING, NOTICE_TITLE,
                                          label_for, render_form, render_forms, render_labels,
                                          return_label)
from desktop.printing.data import LabelSheet
from desktop.printing.fonts import missing_glyphs, register_cjk_font

from .conftest import make_forms, page_count, pdffonts, pdftotext, render_page, squash


@pytest.fixture
def batch_pdf(tmp_path, forms, bureau) -> Path:
    out = tmp_path / "batch.pdf"
    res = render_forms(forms, bureau, out)
    assert res.path == str(out) and res.count == 3 and res.pages == 6 and not res.cancelled
    assert res.serials == tuple(f.serial for f in forms)
    return out


def test_one_pdf_two_pages_per_person(batch_pdf, forms):
    assert page_count(batch_pdf) == 2 * len(forms)


def test_font_is_embedded_and_no_unembedded_fonts(batch_pdf):
    rows = pdffonts(batch_pdf)
    assert rows, "no fonts at all?"
    for r in rows:
        assert r["emb"] == "yes", r  # every font embedded (no STSong-Light, no Helvetica)
        assert r["uni"] == "yes", r  # a ToUnicode map: text is searchable/copyable
        assert "STSong" not in r["name"]


def test_text_chinese_and_digits_present(batch_pdf, forms, bureau):
    for i, f in enumerate(forms):
        front = squash(pdftotext(batch_pdf, 2 * i + 1, 2 * i + 1))
        for s in (bureau.name, FORM_TITLE, f.name, f.serial, mask(f.id_number), f.phone,
                  "2026年12月31日", "2026年11月29日", "养老资格认证", "现居住地址", "116021",
                  CERTIFY_SENTENCE, "盖", "认证人签字", "联系电话", "粘贴本人", "近期一寸"):
            assert squash(s) in front, s
        assert f.id_number not in front  # masked by default
        assert squash(f.address) in front
        notice = squash(pdftotext(batch_pdf, 2 * i + 2, 2 * i + 2))
        for s in (NOTICE_TITLE, f.name, "2026年12月31日", bureau.phone, "咨询电话：0482-2773972",
                  bureau.return_address, bureau.return_postcode, FRAUD_WARNING,
                  "社会保险法》第八十八条", f.serial):
            assert squash(s) in notice, s
        assert "\ufffd" not in front + notice


def test_no_missing_glyphs_in_anything_printed(forms, bureau):
    font = register_cjk_font().name
    texts = [FORM_TITLE, NOTICE_TITLE, FRAUD_WARNING, CERTIFY_SENTENCE, bureau.name,
             bureau.return_address, bureau.return_recipient, bureau.counter_address]
    for f in forms:
        texts += [f.name, f.address, f.category, f.phone, f.serial, mask(f.id_number)]
    src = Path(assist_form.__file__).read_text(encoding="utf-8")
    # every CJK literal in the module (labels, instructions, notes)
    texts.append("".join(ch for ch in src if "\u3000" <= ch <= "\uffef"))
    assert missing_glyphs("".join(texts), font) == set()


def test_full_id_number_when_the_bureau_chooses(tmp_path, forms, bureau):
    from dataclasses import replace

    out = tmp_path / "full.pdf"
    render_form(forms[0], replace(bureau, full_id_number=True), out)
    assert forms[0].id_number in squash(pdftotext(out, 1, 1))


def test_qr_of_each_page_decodes_and_verifies(batch_pdf, forms, key_provider):
    for i, f in enumerate(forms):
        reads = scan.decode_frame(render_page(batch_pdf, 2 * i, dpi=150))
        assert [r.text for r in reads] == [f.qr_payload]
        res = qrsign.verify(reads[0].text, key_provider)
        assert res.ok and res.serial == f.serial and res.payload.deadline == f.deadline
        assert res.matches_id(f.id_number, key_provider)
        assert not res.matches_id(forms[(i + 1) % len(forms)].id_number, key_provider)
        # the notice page carries no QR code
        assert scan.decode_frame(render_page(batch_pdf, 2 * i + 1, dpi=100)) == []


def test_decode_pdf_directly(batch_pdf, forms):
    reads = scan.decode_file(batch_pdf)
    assert sorted(r.text for r in reads) == sorted(f.qr_payload for f in forms)


def test_progress_and_cancel(tmp_path, key_provider, bureau):
    forms = make_forms(12, key_provider)
    seen = []
    out = tmp_path / "p.pdf"
    res = render_forms(forms, bureau, out, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(i, 12) for i in range(1, 13)] and not res.cancelled

    stop = threading.Event()
    out2 = tmp_path / "cancelled.pdf"
    def progress(done, total):
        if done == 5:
            stop.set()
    res = render_forms(forms, bureau, out2, progress=progress, cancel=stop)
    assert res.cancelled and res.count == 5 and res.path is None
    assert not out2.exists()
    assert list(tmp_path.glob("*.part")) == []  # no partial file left behind

    # a callable works too, and an existing file is left untouched by a cancelled run
    out.write_bytes(b"old")
    res = render_forms(forms, bureau, out, cancel=lambda: True)
    assert res.cancelled and res.count == 0 and out.read_bytes() == b"old"


def test_file_object_output(forms, bureau):
    pdf = assist_form.form_pdf_bytes(forms[:1], bureau)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000


def test_empty_batch_refused(tmp_path, bureau):
    with pytest.raises(ValueError):
        render_forms([], bureau, tmp_path / "x.pdf")


def test_long_and_odd_values_do_not_break(tmp_path, forms, bureau, key_provider):
    from dataclasses import replace

    f = replace(forms[0], name="阿卜杜热合曼·买买提依明", address="新疆维吾尔自治区" * 8, phone="",
                postcode="", category="工伤保险供养亲属抚恤金领取人员（工伤遗属认证）")
    out = tmp_path / "odd.pdf"
    render_form(f, bureau, out)
    text = squash(pdftotext(out, 1, 1))
    assert "阿卜杜热合曼·买买提依明" in text and "新疆维吾尔自治区" * 8 in text
    assert scan.decode_frame(render_page(out, 0, dpi=150))[0].text == f.qr_payload


def test_labels(tmp_path, key_provider, bureau):
    forms = make_forms(16, key_provider)
    labels = [label_for(f) for f in forms] + [return_label(bureau)]
    out = tmp_path / "labels.pdf"
    res = render_labels(labels, out, sender=bureau, sheet=LabelSheet(outline=True))
    assert res.pages == 2 and page_count(out) == 2  # 14 per sheet
    p1 = squash(pdftotext(out, 1, 1))
    p2 = squash(pdftotext(out, 2, 2))
    assert forms[0].name in p1 and "收" in p1 and forms[0].serial in p1 and squash(forms[0].address) in p1
    assert forms[15].name in p2 and bureau.return_postcode[0] in p2
    assert bureau.return_address in p2 and bureau.name in p2
    assert all(r["emb"] == "yes" for r in pdffonts(out))
