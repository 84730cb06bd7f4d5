"""Roster and results imports: every row accounted for, messy real-world files included."""

from __future__ import annotations

from collections import Counter
from datetime import date as d
from pathlib import Path

import openpyxl
import pytest
from scenario import ACTOR, write_csv
from sqlalchemy import text

from db import journal
from desktop.errors import UserFacingError
from desktop.domain.idnumber import make_number
from desktop.services.imports import RESULT_COLUMNS, ROSTER_COLUMNS, ImportService
from desktop.services.persons import PersonService

TODAY = d(2026, 11, 29)
A = make_number("152202", d(1950, 3, 1), 11)
B = make_number("152221", d(1948, 7, 9), 22)
C = make_number("152224", d(1956, 12, 31), 33)
BAD = A[:-1] + ("0" if A[-1] != "0" else "1")


def imp(db, path, **kw):
    return ImportService(db).import_roster(path, ACTOR, today=TODAY, **kw)


def count(db, table):
    with db.engine.connect() as conn:
        return conn.execute(text(f"select count(*) from {table}")).scalar()


def test_sample_roster_imports_cleanly_and_reimport_is_unchanged(db, shared_dir):
    path = shared_dir / "fixtures" / "roster-sample.csv"
    first = imp(db, path)
    assert first.as_json() == {"imported": 20, "updated": 0, "unchanged": 0, "rejected": [], "warnings": [],
                               "no_last_certified": 0}
    again = imp(db, path)
    assert again.as_json() == {"imported": 0, "updated": 0, "unchanged": 20, "rejected": [], "warnings": [],
                               "no_last_certified": 0}
    assert count(db, "entitlements") == 20


def test_messy_gbk_roster_accounts_for_every_row(db, tmp_path):
    fw = A.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        ["王桂兰", fw, "企业离退休人员", "2012/5/1", "20260315", "139 0000 1111", " 阿尔山市林海街道 ", "本地", "1,500.00"],  # 2 ok
        ["李德胜", B, "城乡居民养老保险待遇领取人员", "2015年3月1日", "", "", "", "异地", ""],  # 3 ok
        ["李德胜", B, "城乡居民养老保险待遇领取人员", "2015年3月1日", "", "", "", "异地", ""],  # 4 duplicate
        ["赵一", BAD, "企业离退休人员", "2012-05-01", "", "", "", "本地", ""],  # 5 check digit
        ["钱二", C, "退休干部", "2012-05-01", "", "", "", "本地", ""],  # 6 unknown cohort
        ["孙三", C, "企业职工遗属", "2026-02-30", "", "", "", "本地", ""],  # 7 impossible date
        ["周四", A, "企业职工遗属", "2020-01-01", "", "", "", "本地", ""],  # 8 name/number mismatch in file
        ["", C, "企业职工遗属", "2020-01-01", "", "", "", "本地", ""],  # 9 no name
        ["吴五", C, "企业职工遗属", "2020-01-01", "2027-01-01", "", "", "本地", ""],  # 10 future cert
        ["郑六", C, "企业职工遗属", "2020-01-01", "", "", "", "外地", ""],  # 11 bad residence
        ["冯七", C, "工伤供养亲属人员", "2020-01-01", "", "", "", "本地", "一千"],  # 12 bad amount
        ["陈八", C, "工伤供养亲属", "44000", "", "", "", "本地", ""],  # 13 ok: Excel serial date 2020-06-18
    ]
    path = write_csv(tmp_path / "gbk.csv", ROSTER_COLUMNS, rows, encoding="gbk")
    report = imp(db, path).as_json()
    assert report["imported"] == 3
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "第3行重复" in reasons[4]
    assert "校验码" in reasons[5]
    assert "认证对象" in reasons[6] and "退休干部" in reasons[6]
    assert "不存在" in reasons[7]
    assert "姓名与身份号码不符" in reasons[8]
    assert "姓名为空" in reasons[9]
    assert "晚于今天" in reasons[10]
    assert "居住地类型" in reasons[11]
    assert "月待遇金额" in reasons[12]
    assert report["imported"] + len(report["rejected"]) == len(rows)
    view = PersonService(db).show(A, TODAY)
    assert view.phone == "13900001111" and view.address == "阿尔山市林海街道"
    assert view.entitlements[0].monthly_amount == 1500.0
    assert view.entitlements[0].last_certified == d(2026, 3, 15)
    assert PersonService(db).show(C, TODAY).entitlements[0].start_date == d(2020, 6, 18)


def test_utf8_bom_and_tab_separated(db, tmp_path):
    path = tmp_path / "bom.csv"
    body = "\t".join(ROSTER_COLUMNS) + "\n" + "\t".join(["王桂兰", A, "企业离退休人员", "2012-05-01", "", "", "", "", ""]) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert imp(db, path).imported == 1


def test_xlsx_with_excel_dates(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ROSTER_COLUMNS)
    ws.append(["王桂兰", A, "企业离退休人员", d(2012, 5, 1), d(2026, 3, 15), 13900001111, "阿尔山", "本地", 1500])
    ws.append(["李德胜", B, "工伤保险待遇领取人员", 40000, None, None, None, None, None])
    ws.append(["", "", "", None, None, None, None, None, None])  # blank line: ignored
    ws.append(["坏行", "12345", "企业离退休人员", d(2012, 5, 1), None, None, None, None, None])
    wb.save(tmp_path / "r.xlsx")
    report = imp(db, tmp_path / "r.xlsx").as_json()
    assert report["imported"] == 2
    assert report["rejected"] == [{"line": 5, "reason": "公民身份号码应为18位"}]
    assert PersonService(db).show(B, TODAY).entitlements[0].start_date == d(2009, 7, 6)


def test_reimport_updates_rather_than_duplicates(db, tmp_path):
    row = ["王桂兰", A, "企业离退休人员", "2012-05-01", "2026-03-15", "13900001111", "阿尔山市林海街道", "本地", "1500"]
    imp(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [row]))
    changed = row[:5] + ["13900002222", "阿尔山市新城街道", "异地", "1600"]
    report = imp(db, write_csv(tmp_path / "2.csv", ROSTER_COLUMNS, [changed, changed[:2] + ["企业职工遗属"] + changed[3:],
                                                                   row[:2] + ["工伤供养亲属"] + row[3:]]))
    # line 4 is the same person with the old contact details: imported with a warning, and the
    # later line wins (issue 14 §7)
    assert (report.imported, report.updated, report.unchanged) == (2, 1, 0)
    assert report.rejected == []
    assert report.warnings == [{"line": 4, "reason": "与第2行是同一人，联系电话、居住地址、居住地类型不一致："
                                                     "已采用本行（较后一行）的内容，原内容记入修改记录"}]
    assert count(db, "persons") == 1 and count(db, "entitlements") == 3
    view = PersonService(db).show(A, TODAY)
    assert view.residence == "local" and view.phone == "13900001111"


def test_name_differing_from_database_is_rejected(db, tmp_path):
    imp(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [["王桂兰", A, "企业离退休人员", "2012-05-01"] + [""] * 5]))
    report = imp(db, write_csv(tmp_path / "2.csv", ROSTER_COLUMNS, [["王贵兰", A, "企业职工遗属", "2012-05-01"] + [""] * 5]))
    assert report.rejected and "姓名与身份号码不符" in report.rejected[0]["reason"]
    assert count(db, "entitlements") == 1


def test_dry_run_writes_nothing(db, tmp_path):
    path = write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [["王桂兰", A, "企业离退休人员", "2012-05-01"] + [""] * 5])
    assert imp(db, path, dry_run=True).imported == 1
    assert count(db, "persons") == 0 and count(db, "audit_log") == 0 and count(db, "outbox") == 0


def test_missing_columns_is_a_clear_error(db, tmp_path):
    path = write_csv(tmp_path / "x.csv", ["姓名", "身份证"], [["王", A]])
    with pytest.raises(UserFacingError) as exc:
        imp(db, path)
    assert "公民身份号码" in exc.value.message_zh


def test_garbage_file_is_a_clear_error(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UserFacingError):
        imp(db, path)


def test_every_import_change_is_audited_and_in_the_outbox(db, tmp_path):
    imp(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [["王桂兰", A, "企业离退休人员", "2012-05-01", "2026-01-01"] + [""] * 4]))
    with db.engine.connect() as conn:
        actions = dict(conn.execute(text("select action, count(*) from audit_log group by action")).fetchall())
        entities = dict(Counter(e for e, _ in journal.queued(conn)))
        details = " ".join(r[0] or "" for r in conn.execute(text("select detail from audit_log")))
    assert actions == {"roster.import": 1}  # a bulk import is one audited action …
    assert entities == {"person": 1, "entitlement": 1, "certification": 1}  # … every record still syncs
    imp(db, write_csv(tmp_path / "2.csv", ROSTER_COLUMNS, [["王桂兰", A, "企业离退休人员", "2012-05-01", "2026-01-01",
                                                           "13900001111", "", "", ""]]))
    with db.engine.connect() as conn:
        actions = dict(conn.execute(text("select action, count(*) from audit_log group by action")).fetchall())
        details = " ".join(r[0] or "" for r in conn.execute(text("select detail from audit_log")))
        batches = conn.execute(text("select count(*) from import_batches")).scalar()
    assert actions == {"roster.import": 2, "person.update": 1}  # changes of existing records: per record
    assert '"fields":["phone"]' in details
    assert batches == 2
    assert A not in details  # audit details never carry a full ID number


def test_results_import(db, tmp_path):
    imp(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [["王桂兰", A, "企业离退休人员", "2012-05-01"] + [""] * 5]))
    rows = [
        [A, "王桂兰", "2026-10-01", "手机认证", "通过"],  # 2 imported
        [A, "王桂兰", "2026-10-01", "手机认证", "通过"],  # 3 duplicate in file
        [B, "李德胜", "2026-10-01", "信息比对", "通过"],  # 4 not on the roster
        [A, "王小兰", "2026-10-02", "信息比对", "通过"],  # 5 name mismatch
        [A, "王桂兰", "2026-10-02", "人脸", "通过"],  # 6 bad method
        [A, "王桂兰", "2026-10-02", "信息比对", "成功"],  # 7 bad result
        [A, "王桂兰", "2027-10-02", "信息比对", "通过"],  # 8 future
        [BAD, "王桂兰", "2026-10-02", "信息比对", "通过"],  # 9 check digit
        [A, "王桂兰", "2026-11-02", "信息比对", "未通过"],  # 10 imported (failed attempt)
    ]
    path = write_csv(tmp_path / "r.csv", RESULT_COLUMNS, rows)
    report = ImportService(db).import_results(path, ACTOR, today=TODAY).as_json()
    assert report["imported"] == 2
    assert [r["line"] for r in report["rejected"]] == [3, 4, 5, 6, 7, 8, 9]
    again = ImportService(db).import_results(path, ACTOR, today=TODAY).as_json()
    assert again["imported"] == 0 and again["unchanged"] == 2
    assert PersonService(db).show(A, TODAY).entitlements[0].last_certified == d(2026, 10, 1)


def test_death_report_rows(db, tmp_path):
    imp(db, write_csv(tmp_path / "1.csv", ROSTER_COLUMNS, [["王桂兰", A, "企业离退休人员", "2012-05-01"] + [""] * 5]))
    rows = [[A, "王桂兰", "2026-09-09", "民政"], [B, "李德胜", "2026-09-09", "民政"], [A, "王桂兰", "1900-01-01", "x"]]
    report = ImportService(db).import_results(write_csv(tmp_path / "d.csv", ["公民身份号码", "姓名", "死亡日期", "来源"], rows),
                                              ACTOR, today=TODAY).as_json()
    assert report["imported"] == 1
    assert [r["line"] for r in report["rejected"]] == [3, 4]
    assert PersonService(db).show(A, TODAY).entitlements[0].status == "terminated"
