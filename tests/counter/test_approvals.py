"""待审核: the supervisor's list of resumptions after more than 12 months (Qt-free)."""

from __future__ import annotations

from datetime import date as d

import pytest
from sqlalchemy import text

from desktop.errors import PermissionDenied
from desktop.domain.months import Month
from desktop.services.approvals import ApprovalService
from desktop.services.hub import Services
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.services.persons import PersonService
from desktop.platform.workstation import Actor

OFFICE = Actor("tester", "ws-test", "admin")
CLERK = Actor("clerk1", "ws-test", "clerk")
SUP = Actor("sup1", "ws-test", "supervisor")


def _long_suspension(db, roster):
    """Suspended from 2025-02, certified 2026-03-05, April run: 14 months back-paid → needs approval."""
    n = roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 1, 15), 2000)
    roster.add(roster.person(), "enterprise_retiree", d(2010, 1, 1), d(2024, 11, 15), 2000)  # nothing to approve
    roster.load(today=d(2024, 12, 1))
    PayrollService(db, SettingsService(db)).run(Month.parse("2025-02"), OFFICE)
    people = PersonService(db)
    people.record_certification(people.show(n, d(2026, 3, 5)).id, d(2026, 3, 5), "counter", OFFICE, today=d(2026, 3, 5))
    PayrollService(db, SettingsService(db)).run(Month.parse("2026-04"), OFFICE)
    return n


def test_pending_lists_long_resumptions_with_masked_number(db, roster):
    number = _long_suspension(db, roster)
    (item,) = Services(db).approvals.pending()
    assert item.kind == "back_pay" and item.kind_zh == "补发（超过12个月）" and item.waiting_since == "2026-04"
    assert item.masked_id != number and item.masked_id.startswith(number[:6]) and item.masked_id.endswith(number[-4:])
    assert "*" in item.masked_id
    assert item.cohort == "enterprise_retiree" and item.cohort_zh
    assert item.name.startswith("测试")
    assert len(item.months) == 14 and item.months[0] == "2025-02"
    assert item.months_text.endswith("（14个月）")
    assert item.suspended_from == "2025-02" and item.certified_on == "2026-03-05"
    assert item.payroll_month == "2026-04" and item.back_pay_amount == 28000.0


def test_clerk_cannot_approve_supervisor_can_once(db, roster):
    _long_suspension(db, roster)
    svc = Services(db).approvals
    (item,) = svc.pending()
    with pytest.raises(PermissionDenied):
        svc.approve(item.event_id, CLERK)
    assert len(svc.pending()) == 1
    assert svc.approve(item.event_id, SUP) is True
    assert svc.pending() == []
    assert svc.approve(item.event_id, SUP) is False  # already approved
    with db.engine.connect() as conn:
        # the pending request is voided and the approved back pay becomes an instruction of the next run
        voided = conn.execute(text("select voided_at is not null from entitlement_events where id=:i"),
                              {"i": item.event_id}).scalar()
        approved_by, month = conn.execute(text(
            "select approved_by, payroll_month from entitlement_events where kind='back_pay' and voided_at is null")).one()
        audited = conn.execute(text("select operator from audit_log where action='payroll.resume_approved' "
                                    "and entity_id=:i"), {"i": item.event_id}).scalars().all()
        from db.journal import queued as queued_records

        queued = queued_records(conn).count(("entitlement_event", item.event_id))
        denied = conn.execute(text("select count(*) from audit_log where action='permission.denied' "
                                   "and operator='clerk1'")).scalar()
    assert voided and approved_by == "sup1" and month == "2026-05"
    assert audited == ["sup1"] and queued >= 2 and denied == 1


def test_voided_and_short_resumptions_are_not_listed(db, roster):
    _long_suspension(db, roster)
    svc = Services(db).approvals
    (first,) = svc.pending()
    # the next month's run grows the one pending request (April's is superseded, May's lists 15 months)
    PayrollService(db, SettingsService(db)).run(Month.parse("2026-05"), OFFICE)
    with db.engine.connect() as conn:
        live = conn.execute(text("select count(*) from entitlement_events where needs_approval and approved_by is null "
                                 "and voided_at is null")).scalar()
    assert len(svc.pending()) == live == 1 and len(svc.pending()[0].months) == 15
    with db.engine.begin() as conn:
        conn.execute(text("update entitlement_events set voided_at=CURRENT_TIMESTAMP where id=:i"), {"i": first.event_id})
    assert first.event_id not in {i.event_id for i in svc.pending()}
    with pytest.raises(Exception):
        svc.approve(first.event_id, SUP)


def test_services_hub_exposes_approvals(db):
    hub = Services(db)
    assert isinstance(hub.approvals, ApprovalService) and hub.approvals.pending() == []
