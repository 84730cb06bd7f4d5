"""FormService end to end on a real SQLite file: issue → render → decode → receive → payroll."""

from __future__ import annotations

import json
import threading
from datetime import date

import cv2
import numpy as np
import pytest
from sqlalchemy import text

from desktop.platform import paths
from desktop.formats import qrsign, scan
from desktop.platform.workstation import Actor
from desktop.services.persons import PersonService
from tests.forms.conftest import ACTOR, TODAY, run_payroll, sn
from tests.pdftools import pdf_text

d = date


def page_png(pdf, tmp_path, name="scan.png", page=0, dpi=150):
    (_, img), *_ = [x for x in scan.render_pdf_pages(pdf, dpi=dpi, pages=[page])]
    out = tmp_path / name
    cv2.imwrite(str(out), img)
    return out


def photographed(img: np.ndarray) -> np.ndarray:
    """Rotated, blurred and unevenly lit, like a phone photo of the returned form."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 7, 0.85)  # scaled so the corner QR stays in frame
    out = cv2.warpAffine(img, m, (w, h), borderValue=255)
    out = cv2.GaussianBlur(out, (0, 0), 1.2)
    ramp = np.tile(np.linspace(0.6, 1.0, w, dtype=np.float32), (h, 1))
    return (out.astype(np.float32) * ramp).clip(0, 255).astype(np.uint8)


def count(db, sql: str, **params) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def form_row(db, serial):
    with db.engine.connect() as conn:
        return conn.execute(text("select * from assist_forms where serial = :s"), {"s": serial}).mappings().one()


@pytest.fixture
def suspended(db, roster):
    """A remote retiree last certified 2025-07-10: deadline 2026-07-10, suspended by the August run."""
    n = roster.add("巴特尔", "enterprise_retiree", d(2025, 7, 10), amount=2500)
    roster.load(today=d(2025, 12, 1))
    assert [i["id_number"] for i in run_payroll(db, "2026-08").suspend] == [n]
    for m in ("2026-09", "2026-10", "2026-11"):
        run_payroll(db, m)
    view = PersonService(db).show(n, TODAY)
    assert view.entitlements[0].status == "suspended"
    assert view.entitlements[0].payment_suspended_since == "2026-08"
    return n


def test_issue_render_decode_receive_resumes_a_suspended_person(db, forms, suspended, tmp_path):
    pdf = tmp_path / "form.pdf"
    issued = forms.issue(suspended, ACTOR, pdf, today=d(2026, 11, 2))
    assert issued.serial == sn(1)
    # all deadlines are past: the form carries a follow-up date, not a date in the past
    assert issued.form.deadline == d(2026, 11, 2) + __import__("datetime").timedelta(days=60)
    row = form_row(db, issued.serial)
    assert row["status"] == "outstanding" and row["issued_by"] == "clerk1"

    # the text is really in the PDF (embedded CJK font, digits present)
    txt = "".join(pdf_text(pdf).split())
    assert "巴特尔" in txt and issued.serial in txt and "协助认证表" in txt

    # decode the QR from the rendered page image (as a scanner would give it)
    png = page_png(pdf, tmp_path)
    payload = scan.find_payload(scan.decode_file(png)).text
    v = qrsign.verify(payload, forms.key_provider)
    assert v.ok and v.serial == issued.serial
    assert v.matches_id(suspended, forms.key_provider)

    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), photographed(cv2.imread(str(page_png(pdf, tmp_path, "p200.png", dpi=200)),
                                                    cv2.IMREAD_GRAYSCALE)), [cv2.IMWRITE_JPEG_QUALITY, 60])
    res = forms.receive(image_path=photo, body_name="大连市沙河口区西安路街道社区服务中心",
                        body_date=d(2026, 11, 20), certifier="王芳", actor=ACTOR, today=TODAY,
                        expected_id_number=suspended)
    assert res.accepted, res.reason_zh
    assert (res.serial, res.id_number, res.cert_date) == (issued.serial, suspended, d(2026, 11, 20))
    assert res.flags == ()

    # the certification: remote_assist, dated on the body's date, with its evidence
    with db.engine.connect() as conn:
        cert = conn.execute(text("select * from certifications where id = :i"),
                            {"i": res.certification_id}).mappings().one()
    assert cert["method"] == "remote_assist" and str(cert["cert_date"]) == "2026-11-20"
    ev = json.loads(cert["evidence"])
    assert ev["serial"] == issued.serial and ev["body"].startswith("大连市") and ev["certifier"] == "王芳"
    kept = paths.data_dir() / ev["scan"]
    from desktop.platform.vault import open_scan

    assert kept.is_file() and open_scan(kept) == photo.read_bytes()  # kept encrypted (issue 16)
    assert kept.read_bytes() != photo.read_bytes()
    assert ev["scan"].startswith("scans/")

    row = form_row(db, issued.serial)
    assert row["status"] == "received" and row["certification_id"] == res.certification_id
    assert row["certifier"] == "王芳" and str(row["body_date"]) == "2026-11-20"

    # resumption: from December, back pay August–November (4 × 2500)
    (fc,) = res.resumptions
    assert fc.resume_from == "2026-12"
    assert fc.back_pay_months == ("2026-08", "2026-09", "2026-10", "2026-11")
    assert fc.back_pay_amount == 10000.0 and fc.needs_approval is False
    assert "自2026年12月起恢复发放" in res.summary_zh() and "2026年8月至2026年11月共4个月" in res.summary_zh()
    view = PersonService(db).show(suspended, TODAY)
    assert view.entitlements[0].resume_pending
    assert view.entitlements[0].last_certified == d(2026, 11, 20)
    # and the real December run agrees with the forecast
    (item,) = run_payroll(db, "2026-12").resume
    assert item["back_pay_months"] == list(fc.back_pay_months) and item["resume_from"] == "2026-12"

    # audited and queued for sync
    actions = [r[0] for r in db.engine.connect().execute(text(
        "select action from audit_log where action like 'assist_form.%' or action = 'certification.record'"))]
    assert actions.count("assist_form.issue") == 1 and "assist_form.receive" in actions
    assert "certification.record" in actions
    assert count(db, "select count(*) from outbox where entity = 'assist_form'") == 2
    # never a full ID number in the audit log
    assert count(db, "select count(*) from audit_log where detail like :n", n=f"%{suspended}%") == 0


@pytest.fixture
def issued(db, roster, forms, tmp_path):
    a = roster.add("张秀兰", "enterprise_retiree", d(2025, 12, 10))
    b = roster.add("李淑珍", "enterprise_retiree", d(2025, 12, 12))
    roster.load()
    pdf = tmp_path / "a.pdf"
    res = forms.issue(a, ACTOR, pdf, today=d(2026, 11, 2))  # posted four weeks ago
    assert res.form.deadline == d(2026, 12, 10)
    payload = scan.find_payload(scan.decode_file(pdf)).text
    return {"a": a, "b": b, "serial": res.serial, "payload": payload, "pdf": pdf}


SUPERVISOR = Actor("lizr", "ws-forms", "supervisor")  # confirms typed serials (issue 15 §4)


def receive(forms, **kw):
    args = dict(body_name="沈阳市和平区南湖街道", body_date=d(2026, 11, 25), certifier="赵敏", actor=ACTOR,
                today=TODAY)
    args.update(kw)
    return forms.receive(**args)


def test_forged_and_tampered_qr_are_refused(db, forms, issued):
    before = count(db, "select count(*) from certifications")
    forged = qrsign.make_payload(issued["serial"], issued["a"], d(2026, 12, 10),
                                 qrsign.static_key_provider(b"another-bureau-key-0123456789abcdef"))
    r = receive(forms, text=forged)
    assert not r.accepted and r.reason == "bad_signature" and "伪造" in r.reason_zh
    body, _, sig = issued["payload"].rpartition(".")
    tampered = body.replace("20261210", "20271210") + "." + sig  # push the deadline a year out
    assert receive(forms, text=tampered).reason == "bad_signature"
    other_serial = body.replace(issued["serial"], sn(2)) + "." + sig
    assert receive(forms, text=other_serial).reason == "bad_signature"
    assert receive(forms, text="CD1.garbage").reason == "malformed"
    assert receive(forms, text="https://example.com/x").reason == "bad_serial"
    assert count(db, "select count(*) from certifications") == before
    assert form_row(db, issued["serial"])["status"] == "outstanding"


def test_someone_elses_form_is_refused(db, forms, issued):
    r = receive(forms, text=issued["payload"], expected_id_number=issued["b"])
    assert not r.accepted and r.reason == "foreign_form" and "不是当前人员" in r.reason_zh
    # correctly signed, but the signed ID reference belongs to another person than the form's
    mixed = qrsign.make_payload(issued["serial"], issued["b"], d(2026, 12, 10), forms.key_provider)
    assert receive(forms, text=mixed).reason == "id_mismatch"
    wrong_deadline = qrsign.make_payload(issued["serial"], issued["a"], d(2027, 12, 10), forms.key_provider)
    assert receive(forms, text=wrong_deadline).reason == "deadline_mismatch"
    assert form_row(db, issued["serial"])["status"] == "outstanding"
    # the right person's form, with that person open, is accepted
    assert receive(forms, text=issued["payload"], expected_id_number=issued["a"]).accepted


def test_duplicate_future_unknown_cancelled_and_missing_fields(db, forms, issued, tmp_path):
    assert receive(forms, text=issued["payload"], body_date=d(2026, 11, 30)).reason == "future_date"
    assert receive(forms, text=issued["payload"], body_date=d(2026, 11, 1)).reason == "before_issue"
    assert receive(forms, text=issued["payload"], body_name="  ").reason == "missing_body"
    assert receive(forms, text=issued["payload"], certifier="").reason == "missing_certifier"
    assert receive(forms, text=sn(999999)).reason == "unknown_serial"
    assert count(db, "select count(*) from certifications where method = 'remote_assist'") == 0

    first = receive(forms, text=issued["payload"])
    assert first.accepted
    again = receive(forms, text=issued["payload"])
    assert not again.accepted and again.reason == "already_received" and "重复" in again.reason_zh
    assert count(db, "select count(*) from certifications where method = 'remote_assist'") == 1

    res = forms.issue(issued["b"], ACTOR, tmp_path / "b.pdf", today=d(2026, 11, 2))
    forms.cancel(res.serial, ACTOR, "寄错地址")
    assert receive(forms, text=res.serial).reason == "cancelled"


def test_typed_serial_and_late_return_are_accepted_with_flags(db, forms, issued):
    # a typed serial skips the signature: a clerk alone is refused (issue 15 §4) …
    alone = receive(forms, text=issued["serial"].lower(), body_date=d(2026, 12, 15), today=d(2027, 1, 5))
    assert not alone.accepted and alone.reason == "typed_needs_supervisor" and "主管" in alone.reason_zh
    clerk2 = Actor("clerk2", "ws-forms", "clerk")
    assert receive(forms, text=issued["serial"], confirmed_by=clerk2).reason == "typed_needs_supervisor"
    # … a supervisor's confirmation lets it through, and the audit names the supervisor
    r = receive(forms, text=issued["serial"].lower(), body_date=d(2026, 12, 15), today=d(2027, 1, 5),
                confirmed_by=SUPERVISOR)
    assert r.accepted
    with db.engine.connect() as conn:
        detail = conn.execute(text("select detail from audit_log where action = 'assist_form.receive'")).scalar()
    assert '"confirmed_by":"lizr"' in detail
    assert set(r.flags) == {"typed_serial", "returned_late", "certified_after_deadline"}
    assert any("截止日期后" in f for f in r.flags_zh)
    with db.engine.connect() as conn:
        cert_date = conn.execute(text("select cert_date from certifications where id = :i"),
                                 {"i": r.certification_id}).scalar()
    assert str(cert_date) == "2026-12-15"


def test_receive_from_the_scanned_pdf_itself(forms, issued):
    r = receive(forms, image_path=issued["pdf"])
    assert r.accepted and r.scan_path.endswith(".pdf")


def test_image_without_qr_is_refused(forms, issued, tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((400, 300), 255, np.uint8))
    assert receive(forms, image_path=blank).reason == "no_qr"
    assert receive(forms, image_path=tmp_path / "missing.png").reason == "scan_error"


def test_issue_refuses_a_second_form_and_reprint_keeps_the_qr(db, forms, issued, tmp_path):
    with pytest.raises(Exception) as exc:
        forms.issue(issued["a"], ACTOR, tmp_path / "again.pdf", today=TODAY)
    assert exc.value.code == "has_outstanding" and issued["serial"] in exc.value.message_zh
    again = forms.reprint(issued["serial"], ACTOR, tmp_path / "reprint.pdf")
    assert scan.find_payload(scan.decode_file(again.pdf)).text == issued["payload"]
    assert form_row(db, issued["serial"])["printed_count"] == 2
    assert count(db, "select count(*) from audit_log where action = 'assist_form.reprint'") == 1


def test_batch_picks_exactly_the_remote_residents_due_without_a_form(db, roster, forms, tmp_path):
    due_a = roster.add("张秀兰", "enterprise_retiree", d(2025, 12, 10))  # deadline 2026-12-10
    due_b = roster.add("欧阳建国", "enterprise_survivor", d(2026, 11, 15))  # deadline 2026-12-15
    roster.add("王德福", "enterprise_retiree", d(2026, 3, 1))  # 2027-03-01: not yet
    roster.add("李本地", "enterprise_retiree", d(2025, 12, 5), residence="本地")  # local
    has_form = roster.add("刘有表", "enterprise_retiree", d(2025, 12, 6))  # already holds a form
    roster.add("陈逾期", "enterprise_retiree", d(2025, 11, 1))  # deadline 2026-11-01 already passed
    half = roster.add("孙半年", "resident_pension", d(2026, 2, 1))  # H1 → deadline 2026-12-31
    roster.load()
    forms.issue(has_form, ACTOR, tmp_path / "one.pdf", today=TODAY)

    cands = forms.batch_candidates(30, TODAY)
    assert [c.id_number for c in cands] == [due_a, due_b]
    assert [c.id_number for c in forms.batch_candidates(32, TODAY)] == [due_a, due_b, half]

    seen = []
    res = forms.batch(30, ACTOR, tmp_path / "batch.pdf", labels_out=tmp_path / "labels.pdf", as_of=TODAY,
                      progress=lambda i, n: seen.append((i, n)))
    assert len(res.forms) == 2 and seen[-1] == (2, 2)
    assert res.serials == (sn(2), sn(3))
    assert res.as_json()["forms"] == 2 and res.pdf.endswith("batch.pdf") and res.labels.endswith("labels.pdf")
    reads = scan.decode_file(tmp_path / "batch.pdf")
    assert {qrsign.verify(r.text, forms.key_provider).serial for r in reads} == set(res.serials)
    assert {f.deadline for f in res.forms} == {d(2026, 12, 10), d(2026, 12, 15)}
    with db.engine.connect() as conn:
        batch_ids = {r[0] for r in conn.execute(text("select batch_id from assist_forms where serial in "
                                                       f"('{sn(2)}','{sn(3)}')"))}
    assert batch_ids == {res.batch_id}
    # run again: everyone due now holds a form
    assert forms.batch(30, ACTOR, tmp_path / "batch2.pdf", as_of=TODAY).forms == ()
    assert not (tmp_path / "batch2.pdf").exists()


def test_cancelled_batch_records_nothing(db, roster, forms, tmp_path):
    for i in range(4):
        roster.add("测试" + "甲乙丙丁"[i], "enterprise_retiree", d(2025, 12, 10 + i))
    roster.load()
    stop = threading.Event()

    def progress(i, n):
        if i == 2:
            stop.set()

    res = forms.batch(30, ACTOR, tmp_path / "x.pdf", as_of=TODAY, progress=progress, cancel=stop)
    assert res.cancelled and res.forms == () and res.pdf is None
    assert not (tmp_path / "x.pdf").exists()
    assert count(db, "select count(*) from assist_forms") == 0
    assert len(forms.batch_candidates(30, TODAY)) == 4


def test_outstanding_and_overdue_lists(db, roster, forms, tmp_path):
    a = roster.add("张秀兰", "enterprise_retiree", d(2025, 12, 10))
    b = roster.add("李淑珍", "enterprise_retiree", d(2026, 1, 20))
    c = roster.add("王德福", "enterprise_retiree", d(2025, 12, 1))
    roster.load()
    sa = forms.issue(a, ACTOR, tmp_path / "a.pdf", today=TODAY).serial
    sb = forms.issue(b, ACTOR, tmp_path / "b.pdf", today=TODAY).serial
    sc = forms.issue(c, ACTOR, tmp_path / "c.pdf", today=d(2026, 11, 2)).serial
    assert receive(forms, text=sc, confirmed_by=SUPERVISOR).accepted

    assert [r.serial for r in forms.outstanding(TODAY)] == [sa, sb]
    assert forms.overdue(TODAY) == []
    late = forms.overdue(d(2026, 12, 20))
    assert [r.serial for r in late] == [sa]
    row = late[0]
    assert row.days_overdue == 10 and row.deadline == d(2026, 12, 10) and row.name == "张秀兰"
    assert row.masked_id == a[:6] + "********" + a[-4:] and a not in json.dumps(row.as_json())
    assert [r.serial for r in forms.overdue(d(2027, 1, 21))] == [sa, sb]


def test_batch_window_matches_the_issue_and_the_person_screen(db, roster, forms, tmp_path):
    """Issue 6: batch = every remote resident whose deadline falls within N days (both ends
    included) and who has no outstanding form — with the same deadline the person screen shows and
    a single issue would print."""
    edge = roster.add("边界甲", "enterprise_retiree", d(2025, 12, 29))  # deadline 2026-12-29 = TODAY + 30
    today_due = roster.add("今天乙", "enterprise_retiree", d(2025, 11, 29))  # deadline today
    cancelled = roster.add("作废丙", "enterprise_retiree", d(2025, 12, 20))  # its form was cancelled
    received = roster.add("已回丁", "enterprise_retiree", d(2025, 12, 15))  # its form came back
    roster.add("逾期戊", "enterprise_retiree", d(2025, 11, 28))  # deadline yesterday: issue individually
    roster.load()
    c = forms.issue(cancelled, ACTOR, tmp_path / "c.pdf", today=d(2026, 11, 2))
    forms.cancel(c.serial, ACTOR, "地址有误")
    r = forms.issue(received, ACTOR, tmp_path / "r.pdf", today=d(2026, 11, 2))
    assert receive(forms, text=r.serial, confirmed_by=SUPERVISOR).accepted  # certified 2026-11-20: next deadline a year on

    within = lambda n: [x.id_number for x in forms.batch_candidates(n, TODAY)]  # noqa: E731
    assert within(30) == [today_due, cancelled, edge]
    assert within(29) == [today_due, cancelled]
    assert within(0) == [today_due]

    persons = PersonService(db)
    for cand in forms.batch_candidates(30, TODAY):
        screen = [e.deadline for e in persons.show(cand.id_number, TODAY).entitlements if e.deadline >= TODAY]
        assert cand.deadline == min(screen)
    res = forms.batch(30, ACTOR, tmp_path / "b.pdf", as_of=TODAY)
    assert [(f.id_number, f.deadline) for f in res.forms] == [
        (x, y) for x, y in zip([today_due, cancelled, edge], [TODAY, d(2026, 12, 20), d(2026, 12, 29)])]
    # every one now holds an outstanding form: neither the batch nor a single issue gives a second;
    # the received form's person comes round again for next year's deadline (2027-11-20)
    assert within(300) == [] and within(366) == [received]
    with pytest.raises(Exception) as exc:
        forms.issue(edge, ACTOR, tmp_path / "again.pdf", today=TODAY)
    assert exc.value.code == "has_outstanding"
