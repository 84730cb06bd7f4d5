"""Imports from the files bureaus really receive (issue 21): synonyms, the header row below a
title, merged header cells, totals rows, .xls/.xlsx/.ods/GB18030 through one reader, --map and
saved source profiles, death lists with 注销原因 and 注销日期."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from scenario import ACTOR, TODAY, write_csv
from sheetfiles import A, B, C, ISSUE_HEADER, PEOPLE, TITLE, write_merged_xlsx, write_ods, write_text, write_xls
from sqlalchemy import text

from db import journal
from db.sync import CENTRAL_OWNED, ENTITY_TABLE, TABLES
from desktop.errors import UserFacingError
from desktop.formats.import_mapping import field_of, locate_header, parse_map, preview, signature
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.persons import PersonService
from desktop.services.profiles import ProfileService
from desktop.formats.sheets import open_grid
from desktop.platform.workstation import Actor

ROOT = Path(__file__).resolve().parents[2]
CLERK = Actor("clerk1", "ws-test", "clerk")


def roster(db, path, **kw):
    return ImportService(db).import_roster(path, ACTOR, today=TODAY, **kw)


def persons(db) -> dict[str, tuple]:
    with db.engine.connect() as conn:
        return {r[0]: (r[1], r[2], date.fromisoformat(str(r[3])[:10]), *r[4:]) for r in conn.execute(text(
            "select p.id_number, p.name, e.cohort, e.start_date, e.monthly_amount_fen, p.residence "
            "from persons p join entitlements e on e.person_id = p.id"))}


def assert_the_three_people(db):
    got = persons(db)
    assert set(got) == {A, B, C}
    assert got[A][1:4] == ("enterprise_retiree", date(2010, 5, 1), 321550)  # 201005 (a number) → May 2010
    assert got[B][1:3] == ("resident_pension", date(2015, 3, 1))  # "2015-03" → 1 March
    assert got[B][4] == "remote"
    ent = PersonService(db).show(A, TODAY).entitlements[0]
    assert ent.last_certified == date(2026, 3, 15)  # "2026-03-15 10:20:00": the time is dropped


def test_synonyms_cover_the_issue_header():
    assert [field_of(h) for h in ISSUE_HEADER] == ROSTER_COLUMNS
    assert field_of(" 月养老金（元） ") == "月待遇金额" and field_of("*身份证号") == "公民身份号码"
    assert field_of("备注") is None


def test_issue_roster_as_xls_with_title_and_totals_imports_every_person(db, tmp_path):
    path = write_xls(tmp_path / "省系统花名册.xls")
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real Excel 97-2003 file
    report = roster(db, path)
    assert report.as_json() == {"imported": 3, "updated": 0, "unchanged": 0, "rejected": [], "warnings": [],
                                "no_last_certified": 1}  # the totals row and 制表人 line are not people
    assert_the_three_people(db)
    assert roster(db, path).unchanged == 3


def test_header_row_is_found_below_the_title_and_lines_are_the_sheet_rows(tmp_path):
    pv = preview(write_xls(tmp_path / "r.xls"))
    assert pv.header == ISSUE_HEADER and pv.header_line == 2
    assert [line for line, _ in pv.rows] == [3, 4, 5]  # the totals row is not previewed
    assert pv.guess == dict(zip(ISSUE_HEADER, ROSTER_COLUMNS))


def test_a_rejected_row_names_its_sheet_row(db, tmp_path):
    bad = [PEOPLE[0][:1] + [A[:-1] + ("0" if A[-1] != "0" else "1")] + PEOPLE[0][2:], *PEOPLE[1:]]
    report = roster(db, write_xls(tmp_path / "r.xls", people=bad)).as_json()
    assert report["imported"] == 2
    assert report["rejected"] == [{"line": 3, "reason": "公民身份号码校验码错误"}]


def test_two_header_rows_of_merged_cells(db, tmp_path):
    path = write_merged_xlsx(tmp_path / "merged.xlsx")
    header, line, _ = locate_header(open_grid(path))
    assert line == 3 and header[:3] == ["姓名", "身份证号码", "人员类别"] and header[5] == "月养老金"
    assert roster(db, path).imported == 3
    assert_the_three_people(db)


def test_gb18030_csv_with_a_title_row_and_rare_characters(db, tmp_path):
    rare = ["王㛃兰", *PEOPLE[0][1:]]  # 㛃 (U+36C3) is in GB18030 but not in GBK
    path = write_text(tmp_path / "gb.csv", [[TITLE], ISSUE_HEADER, rare, *PEOPLE[1:], ["合计", "", "", "", "", "", "", "", "4895.5"]],
                      "gb18030")
    with pytest.raises(UnicodeEncodeError):
        "㛃".encode("gbk")
    assert roster(db, path).imported == 3
    assert persons(db)[A][0] == "王㛃兰"


def test_tab_separated_utf16_unicode_text(db, tmp_path):
    path = write_text(tmp_path / "u.txt", [ISSUE_HEADER, *PEOPLE], "utf-16", delimiter="\t")  # Excel 'Unicode text'
    assert roster(db, path).imported == 3


def test_ods(db, tmp_path):
    path = write_ods(tmp_path / "r.ods", [[TITLE], ISSUE_HEADER, *PEOPLE, [], ["合计", "", "", "", "", "", "", "", "4895.5"]])
    assert roster(db, path).imported == 3
    assert_the_three_people(db)


def test_unknown_header_needs_a_mapping(db, tmp_path):
    header = ["姓名", "身份证号码", "享受类别", "待遇开始时间"]
    path = write_csv(tmp_path / "x.csv", header, [p[:4] for p in PEOPLE])
    with pytest.raises(UserFacingError) as exc:
        roster(db, path)
    assert exc.value.code == "missing_columns" and exc.value.data["missing"] == ["认证对象"]
    assert "--map" in exc.value.message_zh
    assert roster(db, path, mapping={"享受类别": "认证对象"}).imported == 3
    with pytest.raises(UserFacingError) as exc:
        roster(db, path, mapping={"享受类别": "类别"})
    assert exc.value.code == "bad_map"
    with pytest.raises(UserFacingError) as exc:
        roster(db, path, mapping={"没有的列": "认证对象"})
    assert exc.value.code == "bad_map" and "没有的列" in exc.value.message_zh


def test_a_mapping_can_leave_a_recognised_column_out(db, tmp_path):
    path = write_xls(tmp_path / "r.xls")
    roster(db, path, mapping={"月养老金": ""})
    assert {v[3] for v in persons(db).values()} == {None}


def test_parse_map():
    assert parse_map("享受类别=认证对象，备注=") == {"享受类别": "认证对象", "备注": ""}
    for bad in ("", "享受类别", "=认证对象"):
        with pytest.raises(ValueError):
            parse_map(bad)


def test_names_that_a_spreadsheet_would_run_are_rejected(db, tmp_path):
    rows = [["=HYPERLINK(\"http://x\",\"点击\")", A, "企业离退休人员", "2010-05-01"], ["+王", B, "企业离退休人员", "2010-05-01"],
            ["@李", C, "企业离退休人员", "2010-05-01"]]
    report = roster(db, write_csv(tmp_path / "f.csv", ROSTER_COLUMNS[:4], rows)).as_json()
    assert report["imported"] == 0
    assert [r["line"] for r in report["rejected"]] == [2, 3, 4]
    assert all("公式" in r["reason"] for r in report["rejected"])


# --- profiles ------------------------------------------------------------------------------------

PROVINCE = ["姓名", "证件号", "享受类别", "待遇享受起始年月", "最后一次认证", "电话", "地址", "居住地", "养老金月标准"]


def province_file(tmp_path) -> Path:
    return write_xls(tmp_path / "province.xls", header=PROVINCE)


def province_columns() -> dict[str, str]:
    return dict(zip(PROVINCE, ROSTER_COLUMNS))


def test_a_profile_is_saved_synced_and_offered_for_the_same_header(db, tmp_path):
    path = province_file(tmp_path)
    header = preview(path).header
    profiles = ProfileService(db)
    with pytest.raises(UserFacingError):  # a clerk may not import the roster, nor save its profile
        profiles.save("省系统花名册", "roster", province_columns(), header, CLERK)
    saved = profiles.save("省系统花名册", "roster", province_columns(), header, ACTOR)
    assert saved.signature == signature(header)
    assert profiles.matching("roster", header).name == "省系统花名册"
    assert profiles.matching("roster", ISSUE_HEADER) is None and profiles.matching("results", header) is None
    with db.engine.connect() as conn:
        assert ("import_profile", "省系统花名册") in journal.queued(conn)  # pushed like a setting
        actions = [r[0] for r in conn.execute(text("select action from audit_log"))]
    assert "profile.save" in actions
    assert TABLES["import_profiles"].rule == "owned" and ENTITY_TABLE["import_profile"] == "import_profiles"
    assert "import_profiles" in CENTRAL_OWNED  # decided centrally on an enrolled workstation, like settings
    mapping = profiles.mapping_for(path, "roster", profile="省系统花名册")
    assert roster(db, path, mapping=mapping).imported == 3
    assert_the_three_people(db)
    with pytest.raises(UserFacingError):
        profiles.mapping_for(path, "results", profile="省系统花名册")  # a roster profile for results


def certdesk(tmp_path, *args):
    from cli_auth import signed_env

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_DB": url, **signed_env(url, "supervisor")}
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


def test_command_line_map_profile_and_profiles_list(tmp_path):
    path = province_file(tmp_path)
    r = certdesk(tmp_path, "roster", "import", path, "--dry-run", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["error"] == "missing_columns"
    r = certdesk(tmp_path, "roster", "import", path, "--dry-run", "--json", "--map", "享受类别=认证对象,证件号=公民身份号码")
    assert r.returncode == 3 and "待遇开始日期" in json.loads(r.stdout)["message"]
    mapping = ",".join(f"{s}={t}" for s, t in province_columns().items())
    r = certdesk(tmp_path, "profiles", "save", "省系统花名册", "--kind", "roster", "--file", path, "--map", mapping, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["missing"] == []
    r = certdesk(tmp_path, "profiles", "list", "--json")
    doc = json.loads(r.stdout)
    assert [p["name"] for p in doc["profiles"]] == ["省系统花名册"]
    assert doc["profiles"][0]["kind"] == "roster" and doc["profiles"][0]["columns"]["享受类别"] == "认证对象"
    r = certdesk(tmp_path, "roster", "import", path, "--profile", "省系统花名册", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["imported"] == 3
    r = certdesk(tmp_path, "roster", "import", path, "--profile", "没有这个", "--json")
    assert r.returncode == 4 and json.loads(r.stdout)["error"] == "profile_not_found"
    r = certdesk(tmp_path, "roster", "import", path, "--map", "坏", "--json")
    assert r.returncode == 2


# --- results and death lists ----------------------------------------------------------------------

def _three(db, tmp_path):
    roster(db, write_xls(tmp_path / "r.xls"))


def test_results_with_synonyms_and_times(db, tmp_path):
    _three(db, tmp_path)
    header = ["身份证号", "姓名", "认证时间", "认证渠道", "认证结果"]
    rows = [[A, "王桂兰", "2026-10-01 09:30:12", "手机认证", "通过"]]
    report = ImportService(db).import_results(write_xls(tmp_path / "app.xls", header=header, people=rows, title="人社App认证结果",
                                                        totals=False, numbers=False), ACTOR, today=TODAY)
    assert report.as_json()["imported"] == 1
    assert PersonService(db).show(A, TODAY).entitlements[0].last_certified == date(2026, 10, 1)


def test_police_deregistrations_review_the_non_deaths_and_flag_the_dates(db, tmp_path):
    _three(db, tmp_path)
    header = ["公民身份号码", "姓名", "注销日期", "注销原因"]
    rows = [[A, "王桂兰", "2026-09-09", "死亡"], [B, "巴特尔·其其格", "2026-08-01", "迁出"], [C, "李德胜", "2026-07-01", "出国（定居）"]]
    path = write_xls(tmp_path / "公安户籍注销.xls", header=header, people=rows, title="户籍注销人员名单", totals=False,
                     numbers=False)
    dry = ImportService(db).import_results(path, ACTOR, today=TODAY, dry_run=True).as_json()
    assert dry["imported"] == 1 and [r["line"] for r in dry["review"]] == [4, 5]
    report = ImportService(db).import_results(path, ACTOR, today=TODAY).as_json()
    assert report["imported"] == 1 and report["rejected"] == []
    assert report["warnings"] == [{"line": 3, "reason": "死亡日期取自注销日期（名单没有死亡日期），请核实"}]
    assert [r["line"] for r in report["review"]] == [4, 5] and "迁出" in report["review"][0]["reason"]
    with db.engine.connect() as conn:
        deaths = dict(conn.execute(text("select id_number, death_source from persons where death_date is not null")).fetchall())
        cases = conn.execute(text("select kind, count(*) from sync_conflicts group by kind")).fetchall()
    assert list(deaths) == [A] and "按注销日期" in deaths[A]  # only the death, with its flag
    assert cases == [("deregistered_not_death", 2)]  # the review list: a case per person for a supervisor
    again = ImportService(db).import_results(path, ACTOR, today=TODAY).as_json()
    assert again["unchanged"] == 1
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from sync_conflicts")).scalar() == 2  # no second case


def test_civil_affairs_list_with_a_death_date_and_a_reason_column(db, tmp_path):
    _three(db, tmp_path)
    header = ["证件号码", "死者姓名", "死亡时间", "注销原因", "信息来源"]
    rows = [[A, "王桂兰", "2026-09-09", "病故", "民政"], [B, "巴特尔·其其格", "", "死亡", "民政"]]
    report = ImportService(db).import_results(write_csv(tmp_path / "d.csv", header, rows), ACTOR, today=TODAY).as_json()
    assert report["imported"] == 1 and report["warnings"] == []
    assert report["rejected"] == [{"line": 3, "reason": "死亡日期为空"}]


def test_a_death_list_needs_a_date_column(db, tmp_path):
    path = write_csv(tmp_path / "d.csv", ["公民身份号码", "姓名", "注销原因"], [[A, "王桂兰", "死亡"]])
    with pytest.raises(UserFacingError) as exc:
        ImportService(db).import_results(path, ACTOR, today=TODAY)
    assert exc.value.code == "missing_columns" and exc.value.data["missing"] == ["死亡日期"]


def test_classic_mac_line_ends_and_a_workbook_under_a_csv_name(db, tmp_path):
    path = tmp_path / "mac.csv"
    with path.open("w", encoding="gb18030", newline="") as fh:
        csv.writer(fh, lineterminator="\r").writerows([ISSUE_HEADER, *PEOPLE])
    assert b"\n" not in path.read_bytes()
    assert roster(db, path).imported == 3
    renamed = tmp_path / "really-an-xls.csv"
    renamed.write_bytes(write_xls(tmp_path / "r.xls").read_bytes())  # told by its content, not its name
    assert roster(db, renamed).unchanged == 3


def test_results_with_a_column_only_the_clerk_can_map(db, tmp_path):
    _three(db, tmp_path)
    header = ["身份证号", "姓名", "认证时间", "认证渠道", "核验结论"]  # 核验结论: no synonym
    path = write_csv(tmp_path / "app.csv", header, [[A, "王桂兰", "2026-10-01", "手机认证", "通过"]])
    with pytest.raises(UserFacingError) as exc:
        ImportService(db).import_results(path, ACTOR, today=TODAY)
    assert exc.value.code == "missing_columns"
    report = ImportService(db).import_results(path, ACTOR, today=TODAY, mapping={"核验结论": "认证结果"})
    assert report.as_json()["imported"] == 1
    assert PersonService(db).show(A, TODAY).entitlements[0].last_certified == date(2026, 10, 1)


def test_a_death_list_whose_date_column_the_clerk_maps(db, tmp_path):
    """The mapping decides that the file is a death list at all (its date column is only known
    through the mapping) and is applied to the death list's own reading."""
    _three(db, tmp_path)
    header = ["证件号码", "死者姓名", "离世日期"]  # 离世日期: no synonym
    path = write_csv(tmp_path / "d.csv", header, [[A, "王桂兰", "2026-09-09"]])
    with pytest.raises(UserFacingError):
        ImportService(db).import_results(path, ACTOR, today=TODAY)
    report = ImportService(db).import_results(path, ACTOR, today=TODAY, mapping={"离世日期": "死亡日期"}).as_json()
    assert report["imported"] == 1 and report["rejected"] == []
    with db.engine.connect() as conn:
        deaths = conn.execute(text("select id_number, death_date from persons where death_date is not null")).fetchall()
    assert [(n, str(d)[:10]) for n, d in deaths] == [(A, "2026-09-09")]


def test_rows_blank_short_and_spaced_lines_read_as_cleaning_every_cell_would(tmp_path):
    """read_table skips a blank line (every cell empty once cleaned — also full-width spaces,
    NBSP, BOM, zero-width spaces), reads a short line with its missing cells as None, and keeps a
    line whose ID cell is empty or only spaces but another cell has text; the quick test on the
    ID cell must never skip a line that has text."""
    from desktop.formats.import_mapping import read_table
    from desktop.formats.tabular import clean

    header = ["姓名", "公民身份号码", "认证对象", "待遇开始日期"]
    lines = [
        ["王一", "152202194009012240", "企业离退休人员", "2012-05-01"],
        ["", "", "", ""],                                   # blank
        ["\u3000", "\u00a0 ", "\ufeff", "\u200b"],          # blank once cleaned
        ["王二", "", "企业离退休人员"],                      # no ID, short
        ["  ", "\u3000", "企业职工遗属", ""],                  # text beyond a spaced ID cell
        ["王三", " 152202194009012240", "", ""],             # an ID cell beginning with a space
        ["王四"],                                            # one cell
    ]
    path = tmp_path / "r.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *lines])
    rows = list(read_table(path, header, []))
    expected = []
    for n, cells in enumerate(lines, 2):
        if not any(clean(c) for c in cells):
            continue
        expected.append((n, {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(header)}))
    assert [(r.line, r.values) for r in rows] == expected
    assert [n for n, _ in expected] == [2, 5, 6, 7, 8]
