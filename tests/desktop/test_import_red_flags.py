"""Red flags while importing (issue 2 §6): a certification after a recorded death, a death before
the benefit start, entitlements without a last certification — refused or imported with a warning,
and a case for a supervisor. Split from test_import_fidelity.py (shared data and helpers there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from scenario import write_csv

from desktop.services.imports import DEATH_COLUMNS, RESULT_COLUMNS, ROSTER_COLUMNS
from desktop.services.results_import import CERTIFIED_AFTER_DEATH
from test_import_fidelity import A, B, C, ROOT, ROSTER_PLUS, TODAY, queued, results, roster, row, rows_of  # noqa: F401


# --- §6 red flags ----------------------------------------------------------------------------------


def cases(db):
    out = []
    for kind, entity, entity_id, person_id, detail, status in rows_of(
            db, "select kind, entity, entity_id, person_id, detail, status from sync_conflicts order by created_at"):
        out.append({"kind": kind, "entity": entity, "entity_id": entity_id, "person_id": person_id,
                    "detail": json.loads(detail), "status": status, "raw": detail})
    return out


def person_id(db, number):
    return rows_of(db, "select id from persons where id_number = :n", n=number)[0][0]


def test_a_certification_after_the_recorded_death_is_refused_and_opens_one_case(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A), row("李德胜", B)]))
    results(db, write_csv(tmp_path / "d.csv", DEATH_COLUMNS, [[A, "王桂兰", "2026-08-10", "民政"]]))
    path = write_csv(tmp_path / "mobile-2026-10.csv", RESULT_COLUMNS, [
        [A, "王桂兰", "2026-10-01", "手机认证", "通过"],  # 2: after death: refused, a case
        [A, "王桂兰", "2026-08-10", "信息比对", "通过"],  # 3: on the day of death: still proof
        [A, "王桂兰", "2026-10-02", "手机认证", "未通过"],  # 4: a failed attempt is no proof of anything
        [A, "王桂兰", "2026-10-01", "信息比对", "通过"],  # 5: the same date by another method: same case
        [B, "李德胜", "2026-10-01", "手机认证", "通过"],  # 6: alive
    ])
    report = results(db, path)
    assert report.imported == 3
    assert report.rejected == [{"line": 2, "reason": CERTIFIED_AFTER_DEATH}, {"line": 5, "reason": CERTIFIED_AFTER_DEATH}]
    assert CERTIFIED_AFTER_DEATH == "认证日期晚于已登记的死亡日期（疑似冒领），已转主管核查"
    (case,) = cases(db)
    assert case["kind"] == "certified_after_death" and case["status"] == "open"
    assert case["entity"] == "person" and case["person_id"] == person_id(db, A)
    assert case["detail"]["cert_date"] == "2026-10-01" and case["detail"]["death_date"] == "2026-08-10"
    assert case["detail"]["source"] == "mobile-2026-10.csv"
    assert A not in case["raw"] and B not in case["raw"]  # never the ID number
    assert rows_of(db, "select count(*) from certifications c join persons p on p.id = c.person_id "
                       "where p.id_number = :n and c.cert_date > '2026-08-10' and c.result = 'passed'", n=A) == [(0,)]
    assert queued(db).count("sync_conflict") == 1
    # importing the same file again refuses the line again but opens no second case
    again = results(db, path)
    assert [r["line"] for r in again.rejected] == [2, 5] and len(cases(db)) == 1
    assert queued(db).count("sync_conflict") == 1
    # the case reaches the supervisors' list
    from desktop.services.sync import ConflictService

    (view,) = ConflictService(db).cases("open")
    assert view.kind == "certified_after_death" and view.name == "王桂兰" and "2026-10-01" in view.summary_zh


def test_results_dry_run_opens_no_case(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A)]))
    results(db, write_csv(tmp_path / "d.csv", DEATH_COLUMNS, [[A, "王桂兰", "2026-08-10", "民政"]]))
    report = results(db, write_csv(tmp_path / "r.csv", RESULT_COLUMNS, [[A, "王桂兰", "2026-10-01", "手机认证", "通过"]]),
                     dry_run=True)
    assert report.rejected == [{"line": 2, "reason": CERTIFIED_AFTER_DEATH}] and cases(db) == []


def test_a_death_before_the_benefit_start_is_imported_with_a_warning_and_a_case(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, start="2012-05-01"), row("王桂兰", A, cohort="企业职工遗属", start="2026-06-01", last=""),
        row("李德胜", B, start="2012-05-01")]))
    path = write_csv(tmp_path / "deaths.csv", DEATH_COLUMNS, [[A, "王桂兰", "2026-03-01", "民政"],
                                                              [B, "李德胜", "2026-03-01", "民政"]])
    report = results(db, path)
    assert (report.imported, report.rejected) == (2, [])
    ((line, reason),) = [(w["line"], w["reason"]) for w in report.warnings]
    assert line == 2 and reason.startswith("死亡日期早于待遇开始日期") and "企业职工遗属 2026-06-01" in reason
    assert report.as_json()["warnings"] == report.warnings
    (case,) = cases(db)
    assert case["kind"] == "death_before_start" and case["status"] == "open" and case["person_id"] == person_id(db, A)
    assert case["detail"]["death_date"] == "2026-03-01" and case["detail"]["source"] == "deaths.csv"
    assert [e["start_date"] for e in case["detail"]["entitlements"]] == ["2026-06-01"]
    assert A not in case["raw"]
    assert rows_of(db, "select death_date from persons where id_number = :n", n=A) == [("2026-03-01",)]
    assert queued(db).count("sync_conflict") == 1
    again = results(db, path)
    assert again.unchanged == 2 and len(again.warnings) == 1 and len(cases(db)) == 1


def test_roster_reports_entitlements_without_a_last_certification(db, tmp_path):
    report = roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, last=""),  # no date on either line of this person: 2 entitlements
        row("王桂兰", A, cohort="企业职工遗属", start="2015-01-01", last=""),
        row("李德胜", B, last=""),
        row("李德胜", B, cohort="企业职工遗属", start="2015-01-01", last="2026-03-01"),  # covers both of 李德胜's
        row("张三", C, last="2026-03-01"),
    ]))
    assert report.as_json()["no_last_certified"] == 2
    assert any("2 条待遇没有最近认证日期" in n for n in report.notes_zh())
    # a certification recorded since (a results file) counts on the next roster import
    results(db, write_csv(tmp_path / "r.csv", RESULT_COLUMNS, [[A, "王桂兰", "2026-10-01", "手机认证", "通过"]]))
    again = roster(db, tmp_path / "1.csv")
    assert again.as_json()["no_last_certified"] == 0 and again.notes_zh() == []
    assert "no_last_certified" not in results(db, tmp_path / "r.csv").as_json()


def test_a_roster_certification_after_the_recorded_death_is_not_recorded(db, tmp_path):
    roster(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row("王桂兰", A, last="2025-03-15")]))
    results(db, write_csv(tmp_path / "d.csv", DEATH_COLUMNS, [[A, "王桂兰", "2026-01-10", "民政"]]))
    path = write_csv(tmp_path / "2.csv", ROSTER_COLUMNS, [row("王桂兰", A, last="2026-03-15")])
    report = roster(db, path)
    assert report.rejected == [] and [w["line"] for w in report.warnings] == [2]
    assert "晚于已登记的死亡日期" in report.warnings[0]["reason"]
    assert rows_of(db, "select cert_date from certifications") == [("2025-03-15",)]
    (case,) = cases(db)
    assert case["kind"] == "certified_after_death" and case["detail"]["cert_date"] == "2026-03-15"
    roster(db, path)
    assert len(cases(db)) == 1


def test_command_line_shows_warnings_and_the_missing_dates(tmp_path):
    from cli_auth import signed_env

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_DB": url, **signed_env(url, "supervisor")}
    path = write_csv(tmp_path / "r.csv", ROSTER_COLUMNS, [
        row("王桂兰", A, last="", phone="13900001111"),
        row("王桂兰", A, cohort="企业职工遗属", start="2015-01-01", last="", phone="13900002222")])
    out = subprocess.run([sys.executable, "-m", "ui", "roster", "import", str(path), "--as-of", "2026-11-29"],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "第3行：与第2行是同一人" in out.stdout
    assert "2 条待遇没有最近认证日期：首次发放计算将按待遇开始日期起算，暂停前需主管确认" in out.stdout
    doc = json.loads(subprocess.run([sys.executable, "-m", "ui", "roster", "import", str(path), "--as-of", "2026-11-29",
                                     "--json"], cwd=ROOT, capture_output=True, text=True, env=env).stdout)
    assert doc["no_last_certified"] == 2 and [w["line"] for w in doc["warnings"]] == [3]
