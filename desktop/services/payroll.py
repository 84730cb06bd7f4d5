"""Running the payroll instructions of a month against the database, idempotently.

The state of each entitlement *before* month M is folded from the events of earlier months, so
running M again gives the same answer: events already recorded for M are kept when unchanged,
voided (never deleted) when new data changed the answer, and new ones are added once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from db import journal
from db import repositories as repo
from db.models import new_id, utcnow
from desktop.months import Month
from desktop.payroll import EntitlementFacts, PayrollResult, compute
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.services.settings import SettingsService
from desktop.workstation import Actor

KINDS = ("suspend", "resume", "terminate")


@dataclass(slots=True)
class EntState:
    state: str = "active"
    suspended_since: Month | None = None
    missed_deadline: date | None = None
    pending_resume: dict | None = None  # a resume awaiting approval


def fold_events(rows) -> dict[str, EntState]:
    """Entitlement id → state after the given (ordered, non-voided) events."""
    states: dict[str, EntState] = {}
    for e in rows:
        st = states.setdefault(e["entitlement_id"], EntState())
        detail = json.loads(e["detail"]) if e["detail"] else {}
        kind = e["kind"]
        if kind == "suspend":
            st.state = "suspended"
            st.suspended_since = Month.parse(e["effective_month"])
            md = detail.get("missed_deadline")
            st.missed_deadline = date.fromisoformat(md) if md else None
        elif kind == "resume":
            if e["needs_approval"] and not e["approved_by"]:
                st.pending_resume = dict(e)
                continue
            st.state, st.suspended_since, st.missed_deadline, st.pending_resume = "active", None, None, None
        elif kind == "terminate":
            st.state = "terminated"
        elif kind == "reverse_termination":
            st.state = "suspended"
            st.suspended_since = Month.parse(detail["suspended_since"])
            st.missed_deadline = date.fromisoformat(detail["death_date"])
    return states


def _to_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class PayrollService:
    def __init__(self, db: Database, settings: SettingsService | None = None):
        self.db = db
        self.settings = settings or SettingsService(db)

    def run_day(self, month: Month) -> date:
        return month.day(int(self.settings.get("payroll_day")))

    def compute(self, month: Month, conn, run_day: date | None = None) -> PayrollResult:
        """The instructions for ``month``; ``run_day`` overrides the configured day (forecasts)."""
        run_day = run_day or self.run_day(month)
        rules = self.db.rule_table()
        states = fold_events(repo.live_events_before(conn, str(month)))
        # persons whose certifications matter beyond the latest: suspended ones, and the dead
        suspended_pids = repo.person_ids_of_entitlements(conn, [e for e, st in states.items() if st.state == "suspended"])
        dates = repo.passed_dates_for_persons(conn, sorted(suspended_pids | repo.dead_person_ids(conn)), run_day)
        rows = repo.stream_payroll_rows(conn, run_day)  # streamed: constant memory at a million rows

        def facts():
            for eid, pid, number, name, cohort, start, fen, death, last in rows:
                death = _to_date(death)
                if death is not None and death > run_day:
                    death = None
                st = states.get(eid)
                f = EntitlementFacts(eid, pid, number, name, cohort, _to_date(start), fen,
                                     last_certified=_to_date(last), death_date=death)
                if st is not None:
                    f.state, f.suspended_since, f.missed_deadline = st.state, st.suspended_since, st.missed_deadline
                    if st.state == "suspended":
                        after = [d for d in dates.get(pid, ()) if st.missed_deadline is None or d > st.missed_deadline]
                        f.first_certified_after_missed = after[0] if after else None
                if death is not None:
                    later = [d for d in dates.get(pid, ()) if d > death]
                    f.certified_after_death = later[-1] if later else None
                yield f

        return compute(month, run_day, facts(), rules)

    def run(self, month: Month, actor: Actor, *, record: bool = True) -> PayrollResult:
        require(self.db, actor, "payroll.run" if record else "payroll.preview")
        with self.db.engine.connect() as conn:
            tx = conn.begin()
            try:
                result = self.compute(month, conn)
                if record:
                    self._record(conn, result, actor)
                    tx.commit()
                else:
                    tx.rollback()
            except BaseException:
                tx.rollback()
                raise
        return result

    def _record(self, conn, result: PayrollResult, actor: Actor) -> None:
        month = str(result.month)
        now = utcnow()
        # only the kinds a run decides: a reverse_termination (a supervisor's act) is never voided by a re-run
        existing = {(e["entitlement_id"], e["kind"]): e for e in repo.live_events_of_month(conn, month) if e["kind"] in KINDS}
        wanted: dict[tuple[str, str], tuple[str, dict, bool]] = {}
        for item in result.suspend:
            wanted[(item["entitlement_id"], "suspend")] = (month, _detail(item), False)
        for item in result.resume:
            wanted[(item["entitlement_id"], "resume")] = (item["resume_from"] or month, _detail(item), item["needs_approval"])
        for item in result.terminate:
            wanted[(item["entitlement_id"], "terminate")] = (month, _detail(item), False)

        to_void, new_rows, audit, outbox, status_rows = [], [], [], [], []
        for key, old in existing.items():
            want = wanted.get(key)
            if want is None or json.loads(old["detail"] or "{}") != want[1] or old["effective_month"] != want[0]:
                to_void.append(old["id"])
                audit.append(("payroll.event_voided", "entitlement_event", old["id"], {"month": month, "kind": key[1]}))
        for key, (effective, detail, needs_approval) in wanted.items():
            old = existing.get(key)
            if old is not None and old["id"] not in to_void:
                continue
            row = {
                "id": new_id(), "entitlement_id": key[0], "kind": key[1], "payroll_month": month,
                "effective_month": effective, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
                "needs_approval": needs_approval, "approved_by": None, "approved_at": None, "voided_at": None,
                "void_reason": None, "operator": actor.operator, "workstation": actor.workstation, "created_at": now,
            }
            new_rows.append(row)
            audit.append((f"payroll.{key[1]}", "entitlement", key[0], {"month": month, "effective": effective}))
            outbox.append(("entitlement_event", row["id"], journal.row_payload(row)))
            status = {"suspend": "suspended", "terminate": "terminated", "resume": "active"}[key[1]]
            if not (key[1] == "resume" and needs_approval):
                status_rows.append({"eid": key[0], "status": status, "status_since": effective, "updated_at": now})

        repo.void_events(conn, to_void, now, "payroll re-run changed the result")
        repo.insert_events(conn, new_rows)
        repo.set_entitlement_status(conn, status_rows)
        # voided events and the entitlements' new status must reach the central database too
        outbox += [("entitlement_event", i, None) for i in to_void]
        outbox += [("entitlement", r["eid"], None) for r in status_rows]

        have = repo.recoveries_of_month(conn, month)
        cases = []
        for item in result.recover:
            if item["entitlement_id"] in have:
                continue
            case = {
                "id": new_id(), "entitlement_id": item["entitlement_id"], "person_id": item["person_id"],
                "opened_month": month, "overpaid_months": json.dumps(item["overpaid_months"]),
                "amount_fen": None if item["overpaid_amount"] is None else round(item["overpaid_amount"] * 100),
                "method": None, "status": "open", "note": None, "created_at": now,
            }
            cases.append(case)
            audit.append(("recovery.opened", "recovery_case", case["id"], {"month": month, "months": len(item["overpaid_months"])}))
            outbox.append(("recovery_case", case["id"], journal.row_payload(case)))
        repo.insert_recoveries(conn, cases)
        journal.audit_many(conn, actor.operator, actor.workstation, audit)
        journal.enqueue(conn, outbox)

    def approve_resumption(self, event_id: str, approver: Actor) -> bool:
        require(self.db, approver, "payroll.approve_resumption")
        with self.db.engine.begin() as conn:
            done = repo.approve_event(conn, event_id, approver.operator, utcnow()) == 1
            if done:
                journal.audit(conn, approver.operator, approver.workstation, "payroll.resume_approved",
                              "entitlement_event", event_id, None)
                journal.enqueue(conn, [("entitlement_event", event_id, None)])
        return done


def _detail(item: dict) -> dict:
    """What an event stores: the item without the person's identity (that is in the tables)."""
    return {k: v for k, v in item.items() if k not in ("entitlement_id", "person_id", "id_number", "name", "cohort")}
