"""Issue 14, the import side: import fidelity (§7), the amount history (§5) and red flags (§6).

Real SQLite files, real CSV and XLSX files; every assertion is about what a bureau would see."""

from __future__ import annotations

import json
from datetime import date as d
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from scenario import ACTOR, write_csv
from sqlalchemy import text

import desktop.services.roster_import as roster_import
from db import journal
from desktop.domain.idnumber import make_number
from desktop.formats.roster_rows import AMOUNT_FROM, cohort_of, name_key, same_name
from desktop.services.database import Database
from desktop.services.imports import DEATH_COLUMNS, RESULT_COLUMNS, ROSTER_COLUMNS, ImportService
from desktop.services.persons import PersonService
from desktop.formats.tabular import CellError, parse_amount_fen, parse_date, parse_month

TODAY = d(2026, 11, 29)
A = make_number("152202", d(1950, 3, 1), 11)
B = make_number("152221", d(1948, 7, 9), 22)
C = make_number("152224", d(1956, 12, 31), 33)
ROSTER_PLUS = [*ROSTER_COLUMNS, AMOUNT_FROM]
ROOT = Path(__file__).resolve().parents[2]


def roster(db, path, **kw):
    return ImportService(db).import_roster(path, ACTOR, today=kw.pop("today", TODAY), **kw)


def results(db, path, **kw):
    return ImportService(db).import_results(path, ACTOR, today=kw.pop("today", TODAY), **kw)


def rows_of(db, sql, **params):
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def queued(db) -> list[str]:
    with db.engine.connect() as conn:
        return [e for e, _ in journal.queued(conn)]


def row(name, number, cohort="企业离退休人员", start="2012-05-01", last="2026-03-15", phone="", address="",
        residence="本地", amount="", amount_from=None):
    out = [name, number, cohort, start, last, phone, address, residence, amount]
    return out if amount_from is None else [*out, amount_from]


# --- §7 a second entitlement row with other contact details ------------------------------------------


def test_second_row_with_other_contact_is_imported_with_a_warning_and_the_later_row_wins(db, tmp_path):
    path = write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, phone="13900001111", address="阿尔山市林海街道"),  # 2
        row("王桂兰", A, cohort="企业职工遗属", start="2015-01-01", phone="13900002222", address="阿尔山市新城街道"),  # 3
        row("李德胜", B, phone="13700000000"),  # 4
        row("李德胜", B, cohort="工伤供养亲属", address="阿尔山市温泉街"),  # 5: only adds an address — no warning
    ])
    report = roster(db, path)
    assert report.as_json()["rejected"] == []
    assert report.imported == 4
    assert [w["line"] for w in report.warnings] == [3]
    assert "与第2行是同一人" in report.warnings[0]["reason"]
    assert "联系电话、居住地址不一致" in report.warnings[0]["reason"]
    assert "已采用本行" in report.warnings[0]["reason"]
    view = PersonService(db).show(A, TODAY)
    assert (view.phone, view.address) == ("13900002222", "阿尔山市新城街道")  # the later row wins
    assert len(view.entitlements) == 2
    assert PersonService(db).show(B, TODAY).address == "阿尔山市温泉街"
    # the earlier values stay in the history: an audited change with old and new values
    (detail,) = [json.loads(r[0]) for r in rows_of(db, "select detail from audit_log where action = 'person.update' "
                                                     "and entity_id = (select id from persons where name = '王桂兰')")]
    assert detail["old"] == {"address": "阿尔山市林海街道", "phone": "13900001111"}
    assert detail["new"] == {"address": "阿尔山市新城街道", "phone": "13900002222"}
    everything = " ".join(r[0] or "" for r in rows_of(db, "select detail from audit_log"))
    assert A not in everything and B not in everything  # never a full ID number in the audit log


def test_contact_difference_against_the_database_and_within_the_file(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, phone="13900001111")]))
    report = roster(db, write_csv(tmp_path / "2.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, phone="13900002222"),  # 2: a new phone for a known person: an update, no warning
        row("王桂兰", A, cohort="企业职工遗属", start="2015-01-01", phone="13900003333"),  # 3: differs from line 2
    ]))
    assert (report.imported, report.updated, report.rejected) == (1, 1, [])
    assert [w["line"] for w in report.warnings] == [3]
    assert PersonService(db).show(A, TODAY).phone == "13900003333"
    changes = [json.loads(r[0]) for r in rows_of(db, "select detail from audit_log where action = 'person.update' order by seq")]
    assert [(c["old"]["phone"], c["new"]["phone"]) for c in changes] == [("13900001111", "13900002222"),
                                                                        ("13900002222", "13900003333")]


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_contact_warnings_through_the_reading_process(tmp_path, monkeypatch, chunk):
    data = []
    for i in range(6):
        n = make_number("152202", d(1950, 1, 1 + i), i + 1)
        data.append(row(f"王{'一二三四五六'[i]}兰", n, phone=f"1390000000{i}"))
        data.append(row(f"王{'一二三四五六'[i]}兰", n, cohort="企业职工遗属", start="2015-01-01", phone=f"1380000000{i}"))
    path = write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, data)
    single = Database.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    expected = ImportService(single).import_roster(path, ACTOR, today=TODAY).as_json()
    assert [w["line"] for w in expected["warnings"]] == [3, 5, 7, 9, 11, 13]
    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(roster_import, "PARALLEL_CHUNK", chunk)
    parallel = Database.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
    assert ImportService(parallel).import_roster(path, ACTOR, today=TODAY).as_json() == expected
    phones = sorted(r[0] for r in rows_of(parallel, "select phone from persons"))
    assert phones == [f"1380000000{i}" for i in range(6)]


def test_same_entitlement_twice_with_other_content_is_still_rejected(db, tmp_path):
    report = roster(db, write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, phone="13900001111"), row("王桂兰", A, phone="13900002222")]))
    assert report.imported == 1 and [r["line"] for r in report.rejected] == [3]
    assert "内容不同" in report.rejected[0]["reason"]


# --- §7 names across the separators of minority names -----------------------------------------------


@pytest.mark.parametrize("other", ["巴特尔·其其格", "巴特尔•其其格", "巴特尔・其其格", "巴特尔．其其格", "巴特尔.其其格",
                                   "巴特尔 其其格", "巴特尔其其格", "巴特尔\u3000其其格"])
def test_name_key_ignores_the_separators(other):
    assert same_name("巴特尔·其其格", other)
    assert name_key(other) == "巴特尔其其格"


def test_name_key_keeps_different_names_different():
    assert not same_name("巴特尔·其其格", "巴特尔·其木格")
    assert not same_name("王桂兰", "王贵兰")


def test_minority_names_match_in_results_deaths_and_roster_reimport(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [
        row("巴特尔·其其格", A, last=""),
        row("巴特尔•其其格", A, cohort="企业职工遗属", start="2015-01-01", last=""),  # same person, other dot
        row("乌云其木格", B, last=""),
    ]))
    assert rows_of(db, "select name from persons where id_number = :n", n=A) == [("巴特尔·其其格",)]
    res = results(db, write_csv(tmp_path / "res.csv", RESULT_COLUMNS, [
        [A, "巴特尔•其其格", "2026-10-01", "手机认证", "通过"],
        [A, "巴特尔其其格", "2026-10-02", "信息比对", "通过"],
        [A, "巴特尔・其其格", "2026-10-03", "手机认证", "通过"],
        [A, "巴特尔 其其格", "2026-10-04", "手机认证", "通过"],
        [A, "巴特尔．其其格", "2026-10-05", "手机认证", "通过"],
        [A, "巴特尔·其木格", "2026-10-06", "手机认证", "通过"],  # another name: still refused
        [B, "乌云·其木格", "2026-10-06", "手机认证", "通过"],
    ]))
    assert res.imported == 6
    assert [(r["line"], r["reason"]) for r in res.rejected] == [(7, "姓名与身份号码不符")]
    again = roster(db, write_csv(tmp_path / "2.csv", ROSTER_COLUMNS, [row("巴特尔其其格", A, last="")]))
    assert (again.unchanged, again.rejected) == (1, [])
    deaths = results(db, write_csv(tmp_path / "d.csv", DEATH_COLUMNS, [[B, "乌云•其木格", "2026-11-01", "民政"]]))
    assert (deaths.imported, deaths.rejected) == (1, [])


# --- §7 cohort names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, code", [
    ("城乡居民基本养老保险待遇领取人员", "resident_pension"),
    ("城乡居民养老保险待遇领取人员", "resident_pension"),
    ("城乡居民养老金领取人员", "resident_pension"),
    ("城乡居民（基本）养老保险待遇领取人员", "resident_pension"),
    ("企业退休人员", "enterprise_retiree"),
    ("企业职工基本养老保险离退休人员", "enterprise_retiree"),
    ("企业职工基本养老保险（离退休人员）", "enterprise_retiree"),
    ("企业职工基本养老保险(离退休人员)", "enterprise_retiree"),
    (" 企业 离退休人员 ", "enterprise_retiree"),
    ("机关事业单位工作人员退休人员", "institution_retiree"),
    ("机关事业单位退休人员", "institution_retiree"),
    ("工伤职工", "injury_recipient"),
    ("工伤保险长期待遇领取人员", "injury_recipient"),
    ("【工伤保险待遇领取人员】", "injury_recipient"),
    ("因工死亡职工供养亲属", "injury_dependant"),
    ("供养亲属", "injury_dependant"),
    ("工伤供养亲属人员", "injury_dependant"),
    ("遗属", "enterprise_survivor"),
    ("企业职工遗属", "enterprise_survivor"),
    ("enterprise_survivor", "enterprise_survivor"),
])
def test_cohort_names_and_variants(name, code):
    assert cohort_of(name) == code


@pytest.mark.parametrize("name", ["退休干部", "", "养老", "工伤"])
def test_unknown_cohorts_are_rejected(name):
    with pytest.raises(CellError, match="认证对象无法识别"):
        cohort_of(name)


def test_roster_with_cohort_variants(db, tmp_path):
    report = roster(db, write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, cohort="城乡居民基本养老保险待遇领取人员"),
        row("王桂兰", A, cohort="遗属", start="2015-01-01"),
        row("李德胜", B, cohort="因工死亡职工供养亲属"),
        row("李德胜", B, cohort="工伤保险长期待遇领取人员"),
        row("张三", C, cohort="企业职工基本养老保险（离退休人员）"),
        row("张三", C, cohort="退休干部"),
    ]))
    assert report.imported == 5 and [r["line"] for r in report.rejected] == [7]
    cohorts = sorted(rows_of(db, "select p.name, e.cohort from entitlements e join persons p on p.id = e.person_id"))
    assert cohorts == [("张三", "enterprise_retiree"), ("李德胜", "injury_dependant"), ("李德胜", "injury_recipient"),
                       ("王桂兰", "enterprise_survivor"), ("王桂兰", "resident_pension")]


# --- §7 numeric 8-digit dates in XLSX ---------------------------------------------------------------


def test_parse_date_numbers():
    assert parse_date(20230601) == d(2023, 6, 1)
    assert parse_date(20230601.0) == d(2023, 6, 1)
    assert parse_date("20230601.0") == d(2023, 6, 1)
    assert parse_date(45000) == d(2023, 3, 15)  # an Excel serial stays a serial
    assert parse_date(45000.0) == d(2023, 3, 15)
    with pytest.raises(CellError, match="不存在"):
        parse_date(20230231)
    with pytest.raises(CellError):
        parse_date(20230601.5)


def test_xlsx_numeric_yyyymmdd_cells_are_dates(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ROSTER_COLUMNS)
    ws.append(["王桂兰", A, "企业离退休人员", 20230601, 20260315, None, None, None, 1500])
    ws.append(["李德胜", B, "企业离退休人员", 20230601.0, 20260315.0, None, None, None, None])
    ws.append(["张三", C, "企业离退休人员", 45000, None, None, None, None, None])
    wb.save(tmp_path / "r.xlsx")
    report = roster(db, tmp_path / "r.xlsx")
    assert (report.imported, report.rejected) == (3, [])
    a = PersonService(db).show(A, TODAY).entitlements[0]
    assert (a.start_date, a.last_certified) == (d(2023, 6, 1), d(2026, 3, 15))
    assert PersonService(db).show(B, TODAY).entitlements[0].start_date == d(2023, 6, 1)
    assert PersonService(db).show(C, TODAY).entitlements[0].start_date == d(2023, 3, 15)
    # the same dates as text in a CSV give the same result
    csv_db = Database.open(f"sqlite:///{tmp_path / 'csv.sqlite'}")
    roster(csv_db, write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, [row("王桂兰", A, start="20230601", last="20260315")]))
    assert PersonService(csv_db).show(A, TODAY).entitlements[0].start_date == d(2023, 6, 1)


# --- §7 misplaced thousands separators --------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1,5000", "15,00", "1,50,000", "15,00.00", ",1500", "1500,", "1,500,00"])
def test_misplaced_thousands_separators_are_rejected(raw):
    with pytest.raises(CellError, match="千位分隔符位置不对"):
        parse_amount_fen(raw, field="月待遇金额")


@pytest.mark.parametrize("raw, fen", [("15,000.00", 1_500_000), ("1,500", 150_000), ("1，500元", 150_000),
                                      ("¥2,345.6", 234_560), ("1500", 150_000), ("1,234,567.89", 123_456_789)])
def test_grouped_amounts_stay_accepted(raw, fen):
    assert parse_amount_fen(raw) == fen


def test_roster_amounts_with_misplaced_separators(db, tmp_path):
    report = roster(db, write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, amount="1,5000"), row("李德胜", B, amount="15,000.00"), row("张三", C, amount="1,500")]))
    assert report.imported == 2
    ((line, reason),) = [(r["line"], r["reason"]) for r in report.rejected]
    assert line == 2 and "月待遇金额" in reason and "千位分隔符" in reason and "1,5000" in reason
    assert PersonService(db).show(B, TODAY).entitlements[0].monthly_amount == 15000.0
    assert PersonService(db).show(C, TODAY).entitlements[0].monthly_amount == 1500.0


# --- §5 amount history ---------------------------------------------------------------------------


def amounts(db):
    return rows_of(db, "select p.name, a.from_month, a.amount_fen, a.previous_fen, a.operator, a.batch_id "
                       "from entitlement_amounts a join entitlements e on e.id = a.entitlement_id "
                       "join persons p on p.id = e.person_id order by p.name")


@pytest.mark.parametrize("given, month", [("2026-07", "2026-07"), ("2026/7", "2026-07"), ("202607", "2026-07"),
                                          ("2026-07-15", "2026-07"), ("2026年7月", "2026-07"), ("", "2026-11")])
def test_a_new_amount_is_kept_as_history_from_the_given_month(db, tmp_path, given, month):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, amount="1500")]))
    report = roster(db, write_csv(tmp_path / "2.csv", ROSTER_PLUS, [row("王桂兰", A, amount="1600", amount_from=given)]))
    assert (report.updated, report.rejected) == (1, [])
    ((name, from_month, fen, previous, operator, batch),) = amounts(db)
    assert (from_month, fen, previous, operator) == (month, 160_000, 150_000, "tester")
    assert rows_of(db, "select id from import_batches order by created_at desc limit 1") == [(batch,)]
    assert rows_of(db, "select monthly_amount_fen from entitlements") == [(160_000,)]  # the current amount
    assert queued(db).count("entitlement_amount") == 1
    (detail,) = [json.loads(r[0]) for r in rows_of(db, "select detail from audit_log where action = 'entitlement.update'")]
    assert detail["monthly_amount_fen"] == {"old": 150_000, "new": 160_000} and detail["from_month"] == month
    again = roster(db, write_csv(tmp_path / "3.csv", ROSTER_PLUS, [row("王桂兰", A, amount="1600", amount_from=given)]))
    assert again.unchanged == 1 and len(amounts(db)) == 1  # the same file again changes nothing


def test_amount_history_from_xlsx_cells(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, amount="1500"), row("李德胜", B, amount="1500"),
                                                              row("张三", C, amount="1500")]))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ROSTER_PLUS)
    ws.append(["王桂兰", A, "企业离退休人员", d(2012, 5, 1), None, None, None, None, 1600, datetime(2026, 7, 1)])
    ws.append(["李德胜", B, "企业离退休人员", d(2012, 5, 1), None, None, None, None, 1700, 202608])
    ws.append(["张三", C, "企业离退休人员", d(2012, 5, 1), None, None, None, None, 1800, 20260901])
    wb.save(tmp_path / "2.xlsx")
    report = roster(db, tmp_path / "2.xlsx")
    assert (report.updated, report.rejected) == (3, [])
    assert [(n, m, f, p) for n, m, f, p, *_ in amounts(db)] == [
        ("张三", "2026-09", 180_000, 150_000), ("李德胜", "2026-08", 170_000, 150_000), ("王桂兰", "2026-07", 160_000, 150_000)]


def test_amount_month_before_the_start_or_unreadable_is_rejected(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, amount="1500"), row("李德胜", B, amount="1500")]))
    report = roster(db, write_csv(tmp_path / "2.csv", ROSTER_PLUS, [
        row("王桂兰", A, amount="1600", amount_from="2012-04"),
        row("李德胜", B, amount="1600", amount_from="2026-13"),
    ]))
    reasons = {r["line"]: r["reason"] for r in report.rejected}
    assert "待遇调整生效月份（2012-04）早于待遇开始月份（2012-05）" in reasons[2]
    assert "待遇调整生效月份" in reasons[3]
    assert amounts(db) == [] and rows_of(db, "select distinct monthly_amount_fen from entitlements") == [(150_000,)]


def test_amount_month_before_the_last_recorded_change_is_rejected(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, amount="1500")]))
    roster(db, write_csv(tmp_path / "2.csv", ROSTER_PLUS, [row("王桂兰", A, amount="1600", amount_from="2026-07")]))
    report = roster(db, write_csv(tmp_path / "3.csv", ROSTER_PLUS, [row("王桂兰", A, amount="1700", amount_from="2026-05")]))
    assert [r["line"] for r in report.rejected] == [2] and "2026-07" in report.rejected[0]["reason"]
    report = roster(db, write_csv(tmp_path / "4.csv", ROSTER_PLUS, [row("王桂兰", A, amount="1700", amount_from="2026-09")]))
    assert report.updated == 1
    assert [(m, f, p) for _, m, f, p, *_ in amounts(db)] == [("2026-07", 160_000, 150_000), ("2026-09", 170_000, 160_000)]


def test_filling_in_an_unknown_amount_is_not_a_change(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A), row("李德胜", B)]))
    report = roster(db, write_csv(tmp_path / "2.csv", ROSTER_PLUS, [
        row("王桂兰", A, amount="1500"),  # no month: the amount was simply not known before
        row("李德胜", B, amount="1500", amount_from="2026-03"),  # a month given: kept, previous unknown
    ]))
    assert report.updated == 2
    assert [(n, m, f, p) for n, m, f, p, *_ in amounts(db)] == [("李德胜", "2026-03", 150_000, None)]


def test_a_new_amount_of_an_entitlement_starting_later_takes_effect_at_its_start(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, start="2027-03-01", last="", amount="1500")]))
    roster(db, write_csv(tmp_path / "2.csv", ROSTER_COLUMNS, [row("王桂兰", A, start="2027-03-01", last="", amount="1600")]))
    assert [m for _, m, *_ in amounts(db)] == ["2027-03"]


def test_amount_history_dry_run_and_worker(tmp_path, monkeypatch):
    first = write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, amount="1500"), row("李德胜", B, amount="1500")])
    second = write_csv(tmp_path / "2.csv", ROSTER_PLUS, [row("王桂兰", A, amount="1600", amount_from="2026-07"),
                                                         row("李德胜", B, amount="1500")])
    db = Database.open(f"sqlite:///{tmp_path / 'a.sqlite'}")
    roster(db, first)
    assert roster(db, second, dry_run=True).updated == 1 and amounts(db) == []
    monkeypatch.setattr(roster_import, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(roster_import, "PARALLEL_CHUNK", 1)
    roster(db, second)
    assert [(n, m) for n, m, *_ in amounts(db)] == [("王桂兰", "2026-07")]


def test_parse_month():
    assert parse_month("2026/7") == parse_month("202607") == parse_month(202607) == parse_month("2026-07-31") == "2026-07"
    assert parse_month(d(2026, 7, 9)) == parse_month(20260709) == parse_month("2026.07") == "2026-07"
    assert parse_month(None) is None and parse_month("") is None
    for bad in ("2026-13", "202600", "七月", "26-07"):
        with pytest.raises(CellError):
            parse_month(bad, field=AMOUNT_FROM)
