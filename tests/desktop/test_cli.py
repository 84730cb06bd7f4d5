"""The command line end to end, as a field technician would run it (one JSON document each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
from scenario import write_csv

from desktop.domain.idnumber import make_number
from desktop.services.imports import ROSTER_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def certdesk(tmp_path, *args, ok=True):
    from cli_auth import signed_env

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home"), "CERTDESK_DB": url, **signed_env(url)}
    r = subprocess.run([sys.executable, "-m", "ui", *map(str, args)], cwd=ROOT, capture_output=True, text=True, env=env)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def test_roster_person_payroll_round_trip(tmp_path, shared_dir):
    sample = shared_dir / "fixtures" / "roster-sample.csv"
    dry = json.loads(certdesk(tmp_path, "roster", "import", sample, "--dry-run", "--json").stdout)
    assert dry == {"imported": 20, "updated": 0, "unchanged": 0, "rejected": [], "warnings": [], "no_last_certified": 0}
    first = json.loads(certdesk(tmp_path, "roster", "import", sample, "--json").stdout)
    assert first["imported"] == 20  # the dry run wrote nothing
    again = json.loads(certdesk(tmp_path, "roster", "import", sample, "--json").stdout)
    assert again["unchanged"] == 20

    shown = json.loads(certdesk(tmp_path, "person", "show", "15220219540505026X", "--json", "--as-of", "2026-11-29").stdout)
    assert shown["name"] == "秦刚刚"
    (ent,) = shown["entitlements"]
    assert ent == {**ent, "cohort": "enterprise_retiree", "status": "valid", "last_certified": "2026-06-15",
                   "deadline": "2027-06-15", "suspend_from": "2027-07"}

    xlsx = tmp_path / "payroll.xlsx"
    doc = json.loads(certdesk(tmp_path, "payroll", "--month", "2026-12", "--json", "--xlsx", xlsx).stdout)
    assert doc["month"] == "2026-12"
    assert set(doc) >= {"suspend", "resume", "terminate", "recover"}
    suspended = {i["id_number"]: i for i in doc["suspend"]}
    # 钱巴志, resident pension last certified 2025-09-28: H2 2025 → due by 30 Jun 2026 → suspended from July
    assert suspended["152202194009012240"]["suspend_from"] == "2026-07"
    assert suspended["152202194009012240"]["cohort"] == "resident_pension"
    again = json.loads(certdesk(tmp_path, "payroll", "--month", "2026-12", "--json").stdout)
    assert again == doc

    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["暂停发放", "恢复发放", "终止发放", "多领追回", "补发与追回汇总"]
    rows = list(wb["暂停发放"].iter_rows(min_row=3, values_only=True))
    assert sorted(r[1] for r in rows) == sorted(suspended)
    assert {r[2] for r in rows} <= {"企业离退休人员", "机关事业单位退休人员", "城乡居民养老保险待遇领取人员", "企业职工遗属",
                                    "工伤保险待遇领取人员", "工伤供养亲属"}


def test_rejected_rows_are_reported_with_line_and_reason(tmp_path):
    good = make_number("152202", __import__("datetime").date(1950, 1, 1), 5)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    path = write_csv(tmp_path / "r.csv", ROSTER_COLUMNS,
                     [["王桂兰", good, "企业离退休人员", "2012-05-01"] + [""] * 5,
                      ["李德胜", bad, "企业离退休人员", "2012-05-01"] + [""] * 5])
    doc = json.loads(certdesk(tmp_path, "roster", "import", path, "--json").stdout)
    assert doc["imported"] == 1
    assert doc["rejected"] == [{"line": 3, "reason": "公民身份号码校验码错误"}]


def test_idcard_check(tmp_path):
    doc = json.loads(certdesk(tmp_path, "idcard", "check", "152202194009012240", "--json").stdout)
    assert doc == {"valid": True, "reason": None, "reason_zh": None, "birth_date": "1940-09-01", "sex": "F",
                   "region": "内蒙古自治区兴安盟阿尔山市"}
    r = certdesk(tmp_path, "idcard", "check", "152202194009012241", "--json", ok=False)
    assert r.returncode == 3 and json.loads(r.stdout)["reason"] == "check_digit"


def test_missing_file_is_a_clear_error(tmp_path):
    r = certdesk(tmp_path, "roster", "import", tmp_path / "nope.csv", "--json", ok=False)
    assert r.returncode == 3
    assert json.loads(r.stdout)["message"].startswith("文件不存在")


def test_bad_month_is_refused(tmp_path):
    r = certdesk(tmp_path, "payroll", "--month", "2026-13", "--json", ok=False)
    assert r.returncode == 2 and "月份格式" in r.stderr
