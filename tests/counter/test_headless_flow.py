"""The counter's use case without Qt (issue 18 §1): desktop/counter's flow and station — the same
ones the window shows — drive whole certifications from the card on the (simulated) reader to the
printed receipt. No PySide6 import anywhere on this path."""

from __future__ import annotations

import json
import sys
from datetime import date

import pytest
from sqlalchemy import text

from desktop.counter.flow import CounterFlow, run_now
from desktop.counter.headless import HeadlessCounter
from desktop.counter.station import build_demo_station
from desktop.domain.months import Month
from desktop.services.counter import demo_card_specs
from desktop.services.hub import Services
from desktop.platform.workstation import Actor

from .conftest import TODAY

CLERK = Actor("zhangmin", "ws-1", "clerk")


@pytest.fixture
def world(db, roster):
    normal = roster.add(roster.person(date(1950, 3, 1)), "enterprise_retiree", date(2010, 4, 1), date(2026, 3, 10),
                        amount=3200, name="王秀英")
    susp = roster.add(roster.person(date(1948, 6, 2)), "enterprise_retiree", date(2008, 7, 1), date(2025, 6, 15),
                      amount=2800, name="刘长海")
    roster.load()
    services = Services(db)
    admin = Actor("admin", "ws-1", "admin")
    for m in ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11"):
        services.payroll.run(Month.parse(m), admin)
    cards = demo_card_specs(services, 2, TODAY)  # the suspended resident first, then the other, then 2 samples
    from desktop.services.enrolment import EnrolmentService

    station = build_demo_station(cards=cards, pace_fps=200, enrolment=EnrolmentService(db, services.evidence))
    counter = HeadlessCounter(services.counter, station, CLERK, TODAY)
    yield services, counter, {"normal": normal, "suspended": susp}
    counter.close()


def states(counter: HeadlessCounter) -> list[str]:
    out = [e.data for e in counter.events if e.kind == "state"]
    return [s for i, s in enumerate(out) if i == 0 or out[i - 1] != s]


def test_a_whole_certification_from_card_to_receipt_without_qt(world):
    services, counter, people = world
    result = counter.serve(1)  # 王秀英
    assert result is not None and result.person.name == "王秀英" and result.certification.method == "counter"
    assert states(counter) == ["reading", "looking", "person", "face", "recording", "done", "printed", "idle"]
    assert counter.station.printer.jobs and counter.printed[0].startswith("演示模式")
    with services.db.engine.connect() as conn:
        ev = json.loads(conn.execute(text("select evidence from certifications where id = :i"),
                                     {"i": result.certification.id}).scalar())
        photos = conn.execute(text("select count(*) from face_images where certification_id = :i"),
                              {"i": result.certification.id}).scalar()
    assert ev["face"]["liveness_passed"] and ev["card"]["source"] == "simulated" and photos == 1
    assert any(e.kind == "today" and e.data.certified == 1 for e in counter.events)


def test_the_suspended_resident_hears_the_resumption_the_record_then_holds(world):
    services, counter, people = world
    counter.place(0)
    preview = counter.flow.lookup.resumptions
    assert counter.flow.lookup.person.id_number == people["suspended"] and preview
    assert preview[0].resume_from == "2026-12" and len(preview[0].back_pay_months) == 5
    counter.face_check()
    assert counter.flow.state == "done" and counter.flow.result.resumptions == preview
    prompt = [e for e in counter.events if e.kind == "prompt"][-1]
    assert prompt.level == "success_resumed" and "2026年12月起恢复发放" in prompt.text


def test_two_failures_offer_re_enrolment_then_a_pass(world):
    services, counter, people = world
    from dataclasses import replace

    counter.station.face_script[:] = ["not_matching", "challenge_not_done"]
    counter.place(1)
    assert counter.flow.enrol_reason() == (None if counter.flow.card.photo_bmp else "no_reference")
    # with a chip photo (the simulated reader decodes one only where a WLT decoder is installed),
    # a new reference photo is offered after two failures, not before
    counter.flow.card = replace(counter.flow.card, photo_bmp=b"BM-chip-photo")
    counter.face_check()
    assert counter.flow.state == "face_failed" and counter.flow.enrol_reason() is None
    counter.face_check()
    assert counter.flow.face_failures == ["not_matching", "challenge_not_done"]
    assert counter.flow.enrol_reason() == "keeps_failing"  # two failures: offer a new reference photo
    assert counter.flow.primary() == "face"
    counter.face_check()
    assert counter.flow.state == "done"
    with services.db.engine.connect() as conn:
        ev = json.loads(conn.execute(text("select evidence from certifications where id = :i"),
                                     {"i": counter.flow.result.certification.id}).scalar())
    assert ev["face_attempts"] == 3 and ev["face_failures"] == ["not_matching", "challenge_not_done"]
    assert services.counter.today(TODAY, "ws-1").failed == 2


def test_the_same_card_read_again_keeps_the_resident_and_a_visitor_is_noted(world):
    services, counter, people = world
    counter.place(1)
    looked = counter.flow.lookup
    assert counter.flow.card_read(counter.flow.card) is False and counter.flow.lookup is looked
    counter.take_card_back()
    counter.flow.next_resident()
    counter.place(len(counter.station.demo_cards) - 1)  # a built-in sample card: not on this roster
    assert counter.flow.state == "not_found" and counter.flow.primary() == "note"
    counter.flow.note_not_on_roster()
    assert counter.flow.state == "printed" and services.counter.today(TODAY, "ws-1").not_on_roster == 1


def test_the_counter_package_needs_no_qt():
    import subprocess

    code = ("import sys, desktop.counter.headless, desktop.counter.flow, desktop.counter.station; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'ui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_no_camera_makes_staff_attestation_the_main_step(db):
    flow = CounterFlow(Services(db).counter, TODAY, actor=lambda: CLERK, run=run_now)
    flow.camera_opened(False)
    assert flow.banner_level == "warn" and "F9" in flow.banner_text
    assert flow.controls().primary == "请放置身份证" and flow.primary() is None
