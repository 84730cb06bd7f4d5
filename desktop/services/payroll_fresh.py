"""A payroll run's entitlements with nothing recorded, planned per group and written set-wise
(issue 20; the SQL is :mod:`db.ledger_bulk`).

An entitlement with no instruction, no recovery demand, no death and a certification on file can
at most be suspended this month, and what the suspension says depends only on its cohort, its
effective last date and whether it starts after the month — :func:`desktop.domain.ledger.fresh_plan`
of any member of the group. A go-live month's 100,000s of such suspensions are a few thousand
groups: each is planned once here, and SQL writes the instructions, the status cache, the sync
queue and reads the answer's rows, in the order the per-entitlement path would have used.
``tests/desktop/test_payroll_fresh.py`` proves both paths record and answer the same.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterator

from db import aggregates, journal
from db import ledger_bulk as lb
from db.bulk import _iso_datetime
from desktop.domain.ledger import Facts, fresh_plan
from desktop.domain.months import Month
from desktop.domain.rules import clock
from desktop.services.payroll_answer import suspend_item
from desktop.services.payroll_rows import detail_encoder, to_date


class FreshPlans:
    """The fresh entitlements of one run (staged by :meth:`stage`, planned by :meth:`plan`)."""

    def __init__(self):
        self.details: dict[int, dict] = {}  # run_plan key → the suspension's detail
        self.count = 0  # suspensions to instruct
        self.staged = False  # only a whole run on SQLite stages anything

    def stage(self, conn, day: date, thresholds: dict[str, str], wanted, after: date) -> list[tuple]:
        """Stage the run's rows; returns those that need the per-entitlement ledger."""
        lb.stage(conn, day, thresholds, sorted(wanted), after)
        self.staged = True
        return lb.ledger_rows(conn)

    def plan(self, conn, rule_of: dict, month: Month, go_live: Month) -> None:
        """Plan each group of the staged fresh rows once and number the rows with something to
        instruct (``count``); ``rule_of``: cohort → its rule."""
        dumps = detail_encoder()
        plans, details = [], {}
        for cohort, base, late, first_start in lb.fresh_groups(conn):
            b = to_date(base)
            # any member's start gives the same plan: only "starts after the month" matters
            f = Facts("", "", "", "", cohort, to_date(first_start), None, last_certified=b)
            p = fresh_plan(f, clock(rule_of[cohort], b, b), month, go_live)
            if p.status:
                kind, detail = p.status
                assert kind == "suspend"
                plans.append((dumps(detail), cohort, base, late))
                details[(cohort, base, late)] = detail
        self.count = lb.number_fresh(conn, plans)
        self.details = {pk: details[key] for key, pk in lb.plan_ids(conn).items()}

    def record(self, conn, month: Month, actor, now: datetime) -> int:
        """Write the suspensions, the status cache (aggregates kept set-wise) and the sync queue."""
        n = self.count
        if not n:
            return 0
        ms, now_s = str(month), _iso_datetime(now)
        journal.enqueue_bulk(conn, "entitlement_event",
                             lb.insert_suspensions(conn, n, ms, actor.operator, actor.workstation, now_s), now)
        aggregates.bulk_set_status_from(conn, "suspended", lb.FRESH_BUCKETS, lb.FRESH_IDS, n,
                                        lambda: lb.set_suspended(conn, ms, now_s))
        journal.enqueue_bulk(conn, "entitlement", lb.fresh_entitlement_ids(conn), now)
        return n

    def suspensions(self, conn) -> Iterator[dict]:
        """The answer's items of the set-wise suspensions, in instruction order (streamed from the
        database; each group's part of the item is made once)."""
        if not self.count:
            return
        fields = {pk: suspend_item({}, d) for pk, d in self.details.items()}
        for eid, pid, number, name, cohort, pk in lb.answer_rows(conn):
            yield {"entitlement_id": eid, "person_id": pid, "id_number": number, "name": name, "cohort": cohort,
                   **fields[pk]}

    def clear(self, conn) -> None:
        if self.staged:
            lb.clear(conn)

