"""One composition root (issue 18 §3): services take their collaborators as required arguments and
never build one another; ``desktop.services.hub.Services`` builds each once and shares it (the
window's composition root and the command line's ``desktop.cli._common.services`` both use it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop.services.approvals import ApprovalService
from desktop.services.deaths import DeathService
from desktop.services.evidence import EvidenceService
from desktop.services.hub import Services
from desktop.services.lists import ListService
from desktop.services.payroll_review import PayrollReviewService

ROOT = Path(__file__).resolve().parents[2]
# a service built from another inside a service or a command module: `x or FooService(db)`,
# `FooService(self.db)` / `FooService(open_db(args))`
BUILT_HERE = re.compile(r"\bor [A-Z]\w*Service\(|\b[A-Z]\w*Service\((self\.db|open_db\(args\))")
# Known, with their reason (a new one fails the test):
LEFT = {
    # the central URL is known only when a laptop is prepared: a SyncService per preparation
    ("desktop/services/visits.py", "SyncService"),
}


@pytest.mark.parametrize("cls", [ListService, DeathService, PayrollReviewService, ApprovalService])
def test_the_payroll_is_given_not_built(cls, db):
    with pytest.raises(TypeError):
        cls(db)


def test_the_payroll_is_given_its_settings(db):
    from desktop.services.payroll import PayrollService

    with pytest.raises(TypeError):
        PayrollService(db)  # the payroll day comes from the settings the composition root built
    hub = Services(db)
    assert hub.payroll.settings is hub.settings  # one settings service, shared


def test_evidence_is_given_its_vault_and_settings(db):
    with pytest.raises(TypeError):
        EvidenceService(db)


def test_the_hub_builds_each_service_once_and_shares_it(db):
    hub = Services(db)
    assert hub.lists.payroll is hub.payroll
    assert hub.deaths.payroll is hub.payroll
    assert hub.payroll_review.payroll is hub.payroll
    assert hub.approvals.payroll is hub.payroll
    assert hub.evidence.settings is hub.settings and hub.evidence.vault is hub.vault
    assert hub.counter.evidence is hub.evidence
    assert hub.visits.persons is hub.persons


def test_no_service_or_command_builds_another_service():
    found = []
    for path in [*sorted((ROOT / "desktop" / "services").glob("*.py")), *sorted((ROOT / "desktop" / "cli").glob("*.py"))]:
        rel = path.relative_to(ROOT).as_posix()
        if rel == "desktop/services/hub.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            hit = BUILT_HERE.search(line)
            if hit and not any(rel == f and name in hit.group(0) for f, name in LEFT):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def test_the_command_line_builds_its_services_in_one_place(tmp_path):
    from argparse import Namespace

    from desktop.cli._common import services

    args = Namespace(db=f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert services(args) is services(args)
    assert services(args).payroll is services(args).lists.payroll
