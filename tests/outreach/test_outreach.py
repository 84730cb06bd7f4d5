"""到期提醒 list, marks, XLSX and reminder letters against a hand-built roster (as of 2026-11-29)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from openpyxl import load_workbook

from issue8_scenario import CLERK, TODAY


@pytest.fixture
def people(roster):
    r = roster
    ids = {
        "A": r.add("甲本地", "enterprise_retiree", date(2010, 1, 1), date(2025, 12, 10), phone="13911110001"),
        "B": r.add("乙远期", "enterprise_retiree", date(2010, 1, 1), date(2026, 1, 5)),
        "C": r.add("丙异地", "resident_pension", date(2012, 1, 1), date(2026, 2, 1), residence="异地",
                   address="北京市朝阳区望京街道", phone="13911110003"),
        "D": r.add("丁遗属", "enterprise_survivor", date(2015, 1, 1), date(2026, 11, 20), phone="13911110004"),
        "E": r.add("戊逾期", "enterprise_retiree", date(2010, 1, 1), date(2025, 11, 20)),
        "F": r.add("己已停", "enterprise_retiree", date(2010, 1, 1), date(2025, 10, 1)),
        "H": r.add("辛已故", "enterprise_retiree", date(2010, 1, 1), date(2025, 12, 5)),
    }
    g = r.add("庚两项", "enterprise_retiree", date(2010, 1, 1), date(2026, 3, 1))
    r.rows.append(r.rows[-1][:2] + ["企业职工遗属", "2016-01-01"] + r.rows[-1][4:])
    ids["G"] = g
    r.load()
    return {k: r.pid(v) for k, v in ids.items()}


def names(rows):
    return [r.name for r in rows]


def test_due_within_30_days_grouped_by_channel(services, people, db):
    svc = services.outreach
    svc.set_housebound(people["D"], True, CLERK)
    from desktop.services.hub import Services
    from issue8_scenario import ADMIN

    Services(db).deaths.report_death(people["H"], date(2026, 10, 1), ADMIN, as_of=TODAY)

    rows = svc.due_within(30, TODAY)
    # E overdue (suspension from 2026-12 not yet in effect) first, then by deadline
    assert names(rows) == ["戊逾期", "甲本地", "丁遗属"]
    by = {r.name: r for r in rows}
    assert by["甲本地"].deadline == date(2026, 12, 10) and by["甲本地"].suspend_from == "2027-01"
    assert by["甲本地"].channel == "local" and by["甲本地"].phone == "13911110001"
    assert by["丁遗属"].channel == "home_visit" and by["丁遗属"].deadline == date(2026, 12, 20)
    assert by["戊逾期"].deadline == date(2026, 11, 20) and by["戊逾期"].suspend_from == "2026-12"
    assert by["甲本地"].masked_id.startswith("152202") and "*" in by["甲本地"].masked_id

    assert names(svc.due_within(30, TODAY, include_overdue=False)) == ["甲本地", "丁遗属"]
    # 35 days reach C's half-year deadline (2026-12-31); G's survivor clock lapsed in April (not listed)
    wide = svc.due_within(35, TODAY)
    assert "丙异地" in names(wide) and "乙远期" not in names(wide)
    groups = svc.grouped(wide)
    assert names(groups["remote"]) == ["丙异地"]
    assert names(groups["home_visit"]) == ["丁遗属"]
    assert "辛已故" not in names(wide) and "己已停" not in names(wide)


def test_two_entitlements_listed_once_with_earliest_deadline(services, roster):
    n = roster.add("两项人", "enterprise_retiree", date(2010, 1, 1), date(2026, 11, 15))
    roster.rows.append(roster.rows[-1][:2] + ["企业职工遗属", "2016-01-01"] + roster.rows[-1][4:])
    roster.load()
    rows = services.outreach.due_within(30, TODAY)
    assert len(rows) == 1
    r = rows[0]
    assert r.deadline == date(2026, 12, 15)  # survivor: one month
    assert r.cohorts_zh == "企业职工遗属"  # the retiree deadline (2027-11-15) is not within 30 days
    rows = services.outreach.due_within(400, TODAY)
    assert rows[0].entitlements == 2 and "企业离退休人员" in rows[0].cohorts_zh


def test_marks_show_on_the_list_and_in_history(services, people):
    svc = services.outreach
    svc.mark(people["A"], "no_answer", CLERK, as_of=date(2026, 11, 27), deadline=date(2026, 12, 10))
    svc.mark(people["A"], "will_come", CLERK, as_of=TODAY, deadline=date(2026, 12, 10), note="周一上午来")
    rows = {r.name: r for r in svc.due_within(30, TODAY)}
    assert rows["甲本地"].last_outcome == "will_come" and rows["甲本地"].last_outcome_zh == "答应前来"
    assert rows["丁遗属"].last_outcome is None
    hist = svc.history(people["A"])
    assert [h["outcome"] for h in hist] == ["will_come", "no_answer"]
    assert hist[0]["operator"] == "张敏" and hist[0]["note"] == "周一上午来"
    with pytest.raises(Exception):
        svc.mark(people["A"], "maybe", CLERK)


def test_mark_writes_audit_and_outbox(services, people, db):
    from sqlalchemy import text

    services.outreach.mark(people["A"], "called", CLERK, as_of=TODAY)
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from audit_log where action='outreach.mark'")).scalar() == 1
        assert conn.execute(text("select count(*) from outbox where entity='outreach_mark'")).scalar() == 1


def test_certifying_removes_a_person_from_the_list(services, people):
    services.persons.record_certification(people["A"], TODAY, "counter", CLERK, today=TODAY)
    assert "甲本地" not in names(services.outreach.due_within(30, TODAY))


def test_export_xlsx_one_sheet_per_channel_masked(services, people, tmp_path):
    svc = services.outreach
    svc.set_housebound(people["D"], True, CLERK)
    svc.mark(people["A"], "called", CLERK, as_of=TODAY)
    rows = svc.due_within(35, TODAY)
    path = svc.export_xlsx(rows, tmp_path / "提醒名单.xlsx", TODAY)
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["本地人员", "异地人员", "上门人员"]
    local = list(wb["本地人员"].iter_rows(values_only=True))
    assert "制表日 2026-11-29" in local[0][0]
    assert local[1][:3] == ("姓名", "身份证号码", "联系电话")
    body = {r[0]: r for r in local[2:]}
    assert set(body) == {"戊逾期", "甲本地", "辛已故"}
    a = body["甲本地"]
    assert re.fullmatch(r"152202\*{8}\d{3}[\dX]", a[1])
    assert a[2] == "13911110001" and a[5] == "2026-12-10" and a[6] == 11 and a[7] == "2027-01" and a[8] == "已通话"
    remote = list(wb["异地人员"].iter_rows(values_only=True))[2:]
    assert [r[0] for r in remote] == ["丙异地"] and remote[0][3] == "北京市朝阳区望京街道"
    assert [r[0] for r in list(wb["上门人员"].iter_rows(values_only=True))[2:]] == ["丁遗属"]


def test_export_can_be_cancelled_and_leaves_no_file(services, people, tmp_path):
    from desktop.formats.xlsx import Cancelled

    rows = services.outreach.due_within(35, TODAY) * 3000  # enough rows to reach a cancellation check
    with pytest.raises(Cancelled):
        services.outreach.export_xlsx(rows, tmp_path / "x.xlsx", TODAY, cancel=lambda: True)
    assert list(tmp_path.glob("x.xlsx*")) == []


def test_reminder_letters_one_page_each(services, people, tmp_path):
    from desktop.printing.fonts import FontNotFound

    rows = services.outreach.due_within(35, TODAY)
    out = tmp_path / "告知书.pdf"
    try:
        pages = services.outreach.reminder_letters(rows, out, TODAY)
    except FontNotFound:
        pytest.skip("no CJK font on this machine")
    assert pages == len(rows) == 5
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", data)) == 5
    marked = services.outreach.mark_many(rows, "letter_sent", CLERK, as_of=TODAY)
    assert marked == 5
    assert {r.last_outcome for r in services.outreach.due_within(35, TODAY)} == {"letter_sent"}
