"""The counter use case without Qt: lookup, face and attestation routes, 代办, receipt data, stats."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from desktop.errors import UserFacingError
from desktop.domain.months import Month
from desktop.services.counter import CardFacts, CounterService, FaceOutcome, Helper
from desktop.services.operators import OperatorService
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor

from .conftest import TODAY

CLERK = Actor("zhangmin", "ws-1", "clerk")
CARD = CardFacts("simulated", "", (), "decoded")
FACE = FaceOutcome(0.3412, True, 3, 41, ("blink", "turn_left"), 0.5, 0.6, b"\x89PNG-secret-face-bytes")


def _counter(db, station=None) -> CounterService:
    """The counter service as the composition root builds it (desktop.services.hub)."""
    from desktop.services.hub import Services

    services = Services(db)
    if station is not None:
        services.station = station
    return services.counter


@pytest.fixture
def people(roster):
    normal = roster.add(roster.person(date(1950, 3, 1)), "enterprise_retiree", date(2010, 4, 1), date(2026, 3, 10),
                        amount=3200, name="王秀英")
    susp = roster.add(roster.person(date(1948, 6, 2)), "enterprise_retiree", date(2008, 7, 1), date(2025, 6, 15),
                      amount=2800, name="刘长海")
    two = roster.add(roster.person(date(1951, 1, 5)), "resident_pension", date(2016, 2, 1), date(2026, 8, 2),
                     amount=300, name="赵淑芬")
    roster.add(two, "enterprise_survivor", date(2020, 1, 1), date(2026, 11, 2), amount=1000, name="赵淑芬")
    roster.load()
    admin = Actor("admin", "ws-1", "admin")
    for m in ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11"):
        PayrollService(roster.db, SettingsService(roster.db)).run(Month.parse(m), admin)
    return {"normal": normal, "suspended": susp, "two": two}


def test_lookup_normal_and_not_on_roster(db, people):
    svc = _counter(db)
    look = svc.lookup(people["normal"], TODAY, card_name="王秀英")
    assert look.found and not look.suspended and not look.warnings
    assert look.person.entitlements[0].status == "valid"
    miss = svc.lookup("110101195203071238", TODAY)
    assert not miss.found and miss.masked_id == "110101********1238"
    svc.note_not_on_roster("110101195203071238", CLERK, TODAY, note="外地来访", seconds=12.0)
    with db.engine.connect() as conn:
        detail = conn.execute(text("select detail from audit_log where action='counter.not_on_roster'")).scalar()
    assert "110101********1238" in detail and "110101195203071238" not in detail
    assert svc.today(TODAY, "ws-1").not_on_roster == 1


def test_name_difference_is_a_warning(db, people):
    look = _counter(db).lookup(people["normal"], TODAY, card_name="王秀云", card_warnings=("证件已过期",))
    assert look.warnings[0] == "证件已过期"
    assert "不一致" in look.warnings[1]


def test_face_route_records_counter_certification_with_evidence_and_receipt(db, people):
    svc = _counter(db)
    look = svc.lookup(people["two"], TODAY)
    res = svc.certify_by_face(look.person.id, TODAY, CLERK, FACE, card=CARD, seconds=38.5)
    assert res.certification.method == "counter" and len(res.certification.covers) == 2
    with db.engine.connect() as conn:
        row = conn.execute(text("select method, operator, workstation, evidence from certifications "
                                "where id=:i"), {"i": res.certification.id}).one()
        audit = " ".join(r[0] or "" for r in conn.execute(text("select detail from audit_log")))
    ev = json.loads(row.evidence)
    assert (row.method, row.operator, row.workstation) == ("counter", "zhangmin", "ws-1")
    assert ev["face"]["distance"] == 0.3412 and ev["face"]["liveness_passed"] and ev["face"]["frames_used"] == 3
    assert ev["face"]["photo_stored"] is True and "UE5H" not in row.evidence  # the photo is not in the JSON …
    with db.engine.connect() as conn:
        img = conn.execute(text("select id, kind, ciphertext from face_images where certification_id=:i"),
                           {"i": res.certification.id}).one()
    assert img.kind == "captured" and FACE.photo_png not in img.ciphertext  # … it is stored encrypted …
    assert svc.evidence.load(img.id, CLERK) == FACE.photo_png
    assert "PNG" not in audit and "UE5H" not in audit  # … and never in the audit log
    r = res.receipt
    assert r.name == "赵淑芬" and r.method == "counter" and r.certified_on == TODAY
    labels = {c.label: c.next_deadline for c in r.covers}
    assert labels["城乡居民养老保险待遇领取人员"] == date(2027, 6, 30)  # H2 → next H1 window
    assert labels["企业职工遗属"] == date(2026, 12, 29)
    assert res.bureau.phone == "0482-2773972" and not r.resumptions


def test_suspended_person_resumes_with_back_pay(db, people):
    svc = _counter(db)
    look = svc.lookup(people["suspended"], TODAY)
    assert look.suspended
    (p,) = look.resumptions
    assert p.suspended_from == "2026-07" and p.resume_from == "2026-12"
    assert p.back_pay_months == ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    assert p.back_pay_amount == 14000.0 and not p.needs_approval
    assert "自2026年12月起恢复发放" in p.text_zh() and "2026年7月至2026年11月共5个月" in p.text_zh()
    res = svc.certify_by_face(look.person.id, TODAY, CLERK, FACE, card=CARD)
    (r,) = res.receipt.resumptions
    assert r.resume_month == date(2026, 12, 1) and len(r.back_paid_months) == 5 and r.back_pay_amount == "14,000.00"
    assert res.resumptions == look.resumptions  # the preview and the record agree (one rule)
    assert res.person.entitlements[0].resume_pending
    # the next payroll run resumes it with the same months
    result = PayrollService(db, SettingsService(db)).run(Month.parse("2026-12"), Actor("admin", "ws-1", "admin"))
    (item,) = [i for i in result.resume if i["id_number"] == people["suspended"]]
    assert item["back_pay_months"] == list(p.back_pay_months) and item["resume_from"] == "2026-12"


def test_staff_attestation_needs_a_supervisor_and_a_reason(db, people, fast_hasher):
    ops = OperatorService(db, hasher=fast_hasher)
    admin = Actor("admin", "ws-1", "admin")
    ops.create("zhangmin", "张敏", "clerk", "Counter2026", admin, must_change=False)
    ops.create("wangli", "王丽", "clerk", "Counter2027", admin, must_change=False)
    ops.create("lizr", "李主任", "supervisor", "Super2026x", admin, must_change=False)
    svc = _counter(db)
    pid = svc.lookup(people["normal"], TODAY).person.id
    svc.record_failure(CLERK, TODAY, "not_matching", person_id=pid, detail={"distance": 0.71, "attempt": 1})
    clerk2 = ops.get("wangli")
    with pytest.raises(UserFacingError) as e:
        svc.certify_by_attestation(pid, TODAY, CLERK, clerk2, "face_failed", card=CARD)
    assert e.value.code == "needs_approver"
    sup = ops.verify_second_officer("lizr", "Super2026x", workstation="ws-1", first_officer="zhangmin")
    with pytest.raises(UserFacingError):
        svc.certify_by_attestation(pid, TODAY, CLERK, sup, "other", note=" ", card=CARD)
    res = svc.certify_by_attestation(pid, TODAY, CLERK, sup, "face_failed", card=CARD, face_attempts=1)
    with db.engine.connect() as conn:
        row = conn.execute(text("select method, approver, evidence from certifications where id=:i"),
                           {"i": res.certification.id}).one()
    assert row.method == "staff_attestation" and row.approver == "lizr"
    assert json.loads(row.evidence)["attestation"]["reason"] == "face_failed"
    stats = svc.today(TODAY, "ws-1")
    assert stats.certified == 1 and stats.by_method == {"staff_attestation": 1}
    assert stats.failed == 1 and stats.failures[0][:2] == ("not_matching", "与参考照片不一致")


def test_helper_is_kept_in_evidence_and_masked_elsewhere(db, people):
    svc = _counter(db)
    pid = svc.lookup(people["normal"], TODAY).person.id
    helper = Helper("152201197503041236", "王小明", "子女")
    assert "152201197503041236" not in repr(helper)
    with pytest.raises(UserFacingError):
        svc.certify_by_face(pid, TODAY, CLERK, FACE, card=CARD, helper=Helper(people["normal"], "本人", "其他"))
    res = svc.certify_by_face(pid, TODAY, CLERK, FACE, card=CARD, helper=helper, seconds=20)
    with db.engine.connect() as conn:
        ev = json.loads(conn.execute(text("select evidence from certifications where id=:i"),
                                     {"i": res.certification.id}).scalar())
        audit = " ".join(r[0] or "" for r in conn.execute(text("select detail from audit_log")))
    assert ev["helper"] == {"id_number": "152201197503041236", "name": "王小明", "relationship": "子女",
                            "read_from_card": True}
    assert "152201197503041236" not in audit and "152201********1236" in audit
    assert "代办人：王小明（子女，152201********1236）" in res.receipt.note
    assert svc.today(TODAY, "ws-1").helpers == 1


def test_liveness_failure_cannot_be_recorded_as_counter(db, people):
    svc = _counter(db)
    pid = svc.lookup(people["normal"], TODAY).person.id
    with pytest.raises(UserFacingError):
        svc.certify_by_face(pid, TODAY, CLERK, FaceOutcome(0.3, False, 3, 10), card=CARD)


def test_today_stats_average_and_failures(db, people):
    svc = _counter(db)
    ids = [svc.lookup(people[k], TODAY).person.id for k in ("normal", "two")]
    svc.certify_by_face(ids[0], TODAY, CLERK, FACE, card=CARD, seconds=30)
    svc.certify_by_face(ids[1], TODAY, CLERK, FACE, card=CARD, seconds=50)
    svc.record_failure(CLERK, TODAY, "challenge_not_done")
    svc.record_failure(CLERK, TODAY, "challenge_not_done")
    svc.record_failure(CLERK, TODAY, "reader_lost")
    svc.record_failure(Actor("other", "ws-2"), TODAY, "no_face")
    s = svc.today(TODAY, "ws-1")
    assert (s.certified, s.failed, s.average_seconds) == (2, 3, 40.0)
    assert [f[0] for f in s.failures] == ["challenge_not_done", "reader_lost"]
    assert svc.today(TODAY).failed == 4  # the whole office
    assert svc.today(date(2026, 11, 28), "ws-1").certified == 0


def test_receipt_pdf_renders_masked(db, people):
    from desktop.printing.receipt import receipt_pdf_bytes

    svc = _counter(db)
    res = svc.certify_by_face(svc.lookup(people["suspended"], TODAY).person.id, TODAY, CLERK, FACE, card=CARD)
    pdf = receipt_pdf_bytes(res.receipt, res.bureau)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_counter_evidence_feeds_the_dashboards(db, people):
    """What the counter records is what the director's dashboard counts: service time and the
    first-attempt face pass rate (a retry after a failed attempt is not a first-attempt pass)."""
    from desktop.services.dashboards import DashboardService

    svc = _counter(db)
    first = svc.lookup(people["normal"], TODAY).person.id
    retry = svc.lookup(people["two"], TODAY).person.id
    svc.certify_by_face(first, TODAY, CLERK, FACE, card=CARD, seconds=40.0)
    svc.certify_by_face(retry, TODAY, CLERK, FACE, card=CARD, seconds=80.0, attempts=2, failures=("not_matching",))
    board = DashboardService(db).build(TODAY)
    month = str(Month.of(TODAY))
    assert board.service_time[month]["n"] == 2 and board.service_time[month]["median"] == 60.0
    assert sum(v["n"] for v in board.face_by_age.values()) == 2
    assert sum(v["first_pass"] for v in board.face_by_age.values()) == 1
    assert any(n >= 1 for _, n in board.failures)


def test_receipt_names_the_clerk_and_the_window_not_the_login_and_machine(db, people, tmp_path, fast_hasher):
    """Issue 19 §4: 经办人 张敏（3号窗口）, not "zhangmin（vm-43fcba04）"."""
    from desktop.services.station import StationSettings

    admin = Actor("admin", "vm-43fcba04", "admin")
    OperatorService(db, hasher=fast_hasher).create("zhangmin", "张敏", "clerk", "Counter2026", admin, must_change=False)
    station = StationSettings(tmp_path / "station.json")
    svc = _counter(db, station)
    clerk = Actor("zhangmin", "vm-43fcba04", "clerk")
    res = svc.certify_by_face(svc.lookup(people["normal"], TODAY).person.id, TODAY, clerk, FACE, card=CARD)
    assert (res.receipt.clerk, res.receipt.window) == ("张敏", "")  # no window number set: none printed
    station.set("window_no", "3")
    res = svc.certify_by_face(svc.lookup(people["two"], TODAY).person.id, TODAY, clerk, FACE, card=CARD)
    assert (res.receipt.clerk, res.receipt.window, res.receipt.workstation) == ("张敏", "3号窗口", "vm-43fcba04")
    station.set("window_no", "综合受理窗口")
    assert svc.window_label() == "综合受理窗口"
