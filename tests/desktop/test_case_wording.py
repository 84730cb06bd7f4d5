"""The supervisor's cases opened by the ledger's red flags read as plain Chinese (issue 14 §6)."""

from __future__ import annotations

from datetime import date as d

import pytest

from desktop.services.imports import DEATH_COLUMNS, ImportService
from desktop.services.persons import PersonService
from scenario import ACTOR, write_csv


def _cases(db):
    from desktop.services.sync import ConflictService

    return {c.kind: c for c in ConflictService(db).cases()}


def test_death_before_start_and_certification_after_death_cases(db, roster, tmp_path):
    n = roster.add(roster.person(), "enterprise_survivor", d(2026, 3, 1), None, 600, name="乌云·其其格")
    roster.load(today=d(2026, 3, 2))
    path = write_csv(tmp_path / "deaths.csv", DEATH_COLUMNS, [[n, "乌云其其格", "2026-01-10", "民政"]])
    report = ImportService(db).import_results(path, ACTOR, today=d(2026, 5, 10))
    assert report.rejected == [] and report.warnings  # imported, with a warning
    people = PersonService(db)
    pid = people.show(n, d(2026, 5, 10)).id
    with pytest.raises(Exception):
        people.record_certification(pid, d(2026, 5, 10), "counter", ACTOR, today=d(2026, 5, 10))
    cases = _cases(db)
    before = cases["death_before_start"]
    assert before.kind_zh == "死亡日期早于待遇开始日期"
    assert "2026-01-10" in before.summary_zh and "2026-03-01" in before.summary_zh
    after = cases["certified_after_death"]
    assert "未计入" in after.summary_zh and "2026-05-10" in after.summary_zh and "中心登记" not in after.summary_zh
    assert n not in before.summary_zh + after.summary_zh
