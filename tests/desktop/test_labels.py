"""One table of Chinese names per concept (issue 19 §4): a failure reason or a certification method
is called the same on the counter, the dashboards, the person page, the receipt and the enrolment
dialog. Qt-free: the pages' tables are checked by reading their source."""

from __future__ import annotations

import re
from pathlib import Path

from desktop.domain import labels
from desktop.face.triage import NEXT_STEP_ZH, REASON_ZH, NextStep, Reason
from desktop.printing import data as printing_data
from desktop.services import counter, dashboards, persons

ROOT = Path(__file__).resolve().parents[2]


def test_every_failure_reason_has_one_name():
    table = labels.FAILURE_REASON_ZH
    for reason in Reason:
        assert REASON_ZH[reason] == table[reason.value]
    assert counter.FAILURE_ZH is table and dashboards.REASON_ZH is table
    names = list(table.values())
    assert len(names) == len(set(names)), "two reasons share a name"


def test_every_certification_method_has_one_name():
    assert persons.METHODS_ZH is labels.CERT_METHOD_ZH
    assert dashboards.METHODS_ZH is labels.CERT_METHOD_ZH
    assert printing_data.METHOD_ZH is labels.CERT_METHOD_ZH


def test_no_module_keeps_a_table_of_its_own():
    """A second dict with its own word for "not_matching" (or for "remote_assist") is how one
    reason came to have three names."""
    own = re.compile(r'["\'](not_matching|challenge_not_done|remote_assist|staff_attestation)["\']\s*:\s*f?["\'][\u4e00-\u9fff]')  # a Chinese name
    offenders = []
    for folder in ("desktop", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.relative_to(ROOT).as_posix() == "desktop/domain/labels.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if own.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_attestation_is_always_approved_by_a_supervisor_in_words():
    assert NEXT_STEP_ZH[NextStep.STAFF_ATTESTATION].endswith("（需审核主管审批）")
    for folder in ("desktop", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "第二名工作人员审批" not in text and "第二名工作人员审核" not in text, path
