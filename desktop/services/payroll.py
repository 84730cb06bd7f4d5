"""Payroll runs over the payment ledger (domain.md §3; rules in :mod:`desktop.domain.ledger`).

A run for month M gathers, per entitlement, the facts known on M's run day and every recorded
instruction, asks :func:`desktop.domain.ledger.plan` what is missing, and records it: this month's status
instruction and the corrections for earlier months (back pay, recovery, recovery cancelled). The
answer of the run is then read back from what is recorded for M, so running M again prints the same
instructions and records nothing new unless facts changed meanwhile. Runs go in month order: a
month before the latest recorded run is refused. Instructions are never edited; a pending back pay
waiting for a supervisor is superseded (voided) by a larger one when a later run adds months.
"""

from __future__ import annotations

import gc
import json
from contextlib import nullcontext
from datetime import date

from db import bulk, journal
from db import certification_queries as cq
from db import ledger_repo as lrepo
from db import repositories as repo
from db.engine import bulk_write
from db.models import new_id, utcnow
from desktop.domain import idnumber
from desktop.errors import NotFound, UserFacingError
from desktop.domain.ledger import (Demand, EntitlementLedger, Facts, Plan, fresh_plan, plan,
                            yuan)
from desktop.domain.months import Month
from desktop.domain.payroll import PayrollResult
from desktop.domain.rules import clock
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.services.payroll_fresh import FreshPlans
from desktop.services.payroll_answer import assemble, back_pay_detail, guard_item, plan_records, result_from_plans
from desktop.services.payroll_rows import (detail_encoder, fill_missed_deadlines, id_stream, instruction_of_row,
                                          lapse_threshold, month_of, quietly_suspended, reduce_case, to_date)
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor

STATUS_KINDS = ("suspend", "resume", "terminate")
BULK_RUN = 20_000  # instructions from which a run's commit leaves the WAL checkpoint to a background thread
ENT_STATUS = {"suspend": "suspended", "terminate": "terminated", "resume": "active"}


class _Entry:
    """One entitlement of a run: its facts, its plan, and its ledger (built when first needed)."""

    __slots__ = ("facts", "plan", "_ledger", "_make")

    def __init__(self, facts: Facts, ledger: EntitlementLedger | None, plan: Plan, make=None):
        self.facts, self.plan, self._ledger, self._make = facts, plan, ledger, make

    @property
    def ledger(self) -> EntitlementLedger:
        if self._ledger is None:
            fn, *args = self._make  # (a function, its arguments after the facts): no closure per entry
            self._ledger = fn(self.facts, *args)
        return self._ledger


class PayrollService:
    # a whole run on SQLite plans the entitlements with nothing recorded per group and writes
    # them set-wise (payroll_fresh); False: every entitlement through the ledger (the reference
    # the tests compare it with)
    set_wise = True

    def __init__(self, db: Database, settings: SettingsService):
        self.db = db
        self.settings = settings

    def run_day(self, month: Month) -> date:
        return month.day(int(self.settings.get("payroll_day")))

    # --- gathering ---------------------------------------------------------------------------------

    def _gather(self, conn, run_day: date, *, person_id: str | None = None, fresh: FreshPlans | None = None,
                after: date | None = None):
        """The facts per entitlement as a generator factory, and the run bounds (first and latest
        recorded run). Instructions stay raw tuples until an entitlement needs its ledger.
        ``fresh`` (a run on SQLite): the entitlements with nothing recorded are staged there, in
        SQL, and only the others come out as facts."""
        rules = self.db.rule_table()
        first, last = lrepo.run_months(conn)
        go_live = Month.parse(first) if first else None
        last_run = Month.parse(last) if last else None
        eids = None
        if person_id is not None:
            eids = [e["id"] for e in repo.entitlements_of(conn, person_id)]
        raw: dict[str, list[tuple]] = {}
        for row in lrepo.instruction_rows(conn, eids, light=person_id is None):
            lst = raw.get(row[1])
            if lst is None:
                raw[row[1]] = [row]
            else:
                lst.append(row)
        demands: dict[str, list[Demand]] = {}
        for cid, eid, opened, months, status in lrepo.demand_rows(conn, eids):
            demands.setdefault(eid, []).append(
                Demand(cid, month_of(opened), tuple(month_of(m) for m in json.loads(months or "[]")), status))
        amounts: dict[str, list] = {}
        for eid, frm, fen, prev in lrepo.amount_rows(conn, eids):
            amounts.setdefault(eid, []).append((month_of(frm), fen, prev))
        deaths = lrepo.death_dates(conn, person_id)  # person id → death date (the few dead)
        dates = cq.passed_dates_for_persons(conn, sorted(deaths), run_day) if deaths else {}
        rule_of = {r.cohort: r for r in rules.rules()}

        def source(skip_quiet_before: int | None):
            if skip_quiet_before is None or person_id is not None or conn.dialect.name != "sqlite":
                return lrepo.stream_entitlements(conn, run_day, person_id)
            # A run: only entitlements whose clock has lapsed by the month (SQL compares each
            # one's effective last date with its cohort's threshold), plus those with something
            # recorded, a recovery demand or a death — the rest are due and paid: not read at all.
            thresholds = {c: lapse_threshold(r, skip_quiet_before) for c, r in rule_of.items()}
            wanted = set(raw) | set(demands) | lrepo.entitlement_ids_of_persons(conn, list(deaths))
            if fresh is not None:
                return fresh.stage(conn, run_day, thresholds, wanted, after)
            return lrepo.lapsed_entitlements(conn, run_day, thresholds, sorted(wanted))
        clocks: dict = {}
        lapses: dict = {}
        run_day_s = run_day.isoformat()
        bounds = (go_live, last_run)

        def entries(skip_quiet_before: int | None):
            """``skip_quiet_before``: a month index; entitlements whose plan is certainly empty
            for it (nothing recorded and still covered, or quietly suspended) are skipped
            before any object is built."""
            no_rows: list = []
            for eid, pid, cohort, start, fen, last_cert in source(skip_quiet_before):
                death = deaths.get(pid)
                if death is not None and str(death)[:10] > run_day_s:
                    death = None
                ins = raw.get(eid, no_rows)
                if skip_quiet_before is not None and death is None and eid not in demands:
                    key = (cohort, start, last_cert)
                    lapse = lapses.get(key)
                    if lapse is None:
                        s_, l_ = to_date(start), to_date(last_cert)
                        base = s_ if l_ is None or l_ < s_ else l_
                        lapse = lapses[key] = clock(rule_of[cohort], base, base).suspend_month.index
                    if not ins:
                        if lapse > skip_quiet_before:
                            continue
                    elif quietly_suspended(ins, lapse, skip_quiet_before):
                        continue
                start, death, last_cert = to_date(start), to_date(death), to_date(last_cert)
                after_death = None
                if death is not None:
                    ds = [to_date(x) for x in dates.get(pid, ())]
                    before = [x for x in ds if x <= death]
                    later = [x for x in ds if x > death]
                    last_cert = before[-1] if before else None
                    after_death = later[-1] if later else None
                f = Facts(eid, pid, "", "", cohort, start, fen, tuple(amounts.get(eid, ())), last_cert, death,
                          after_death, [instruction_of_row(r) for r in ins], demands.get(eid, []))
                base = start if last_cert is None or last_cert < start else last_cert
                key = (cohort, base)
                c = clocks.get(key)
                if c is None:
                    c = clocks[key] = clock(rule_of[cohort], base, base)
                yield f, rule_of[cohort], c, last_cert is None, pid in deaths

        return entries, bounds

    def _plans(self, conn, month: Month, run_day: date, *, person_id: str | None = None,
               fast: bool = True, fresh: FreshPlans | None = None) -> tuple[list[_Entry], tuple]:
        """The plans of the run's entitlements (only those with something to instruct when
        ``fast``). ``fresh`` (a whole run on SQLite): the entitlements with nothing recorded are
        planned per group there instead (:mod:`desktop.services.payroll_fresh`)."""
        after = (month + 1).first_day()
        if fresh is not None and not (fast and person_id is None and conn.dialect.name == "sqlite"):
            fresh = None
        entries, (go_live, last_run) = self._gather(conn, run_day, person_id=person_id, fresh=fresh, after=after)
        out: list[_Entry] = []
        mi = month.index
        gl = go_live or month

        def make(f, rule, c):
            return EntitlementLedger(f, rule, go_live=gl, last_run=last_run, clk=c)

        # fresh_plan reads only the clock, the flag and whether the entitlement starts after the
        # month: entitlements alike share one (read-only) plan — a go-live month's 100,000s of
        # suspensions are a few thousand distinct plans, in time and in memory
        shared: dict[tuple, Plan] = {}
        plain: list[_Entry] = []
        for f, rule, c, no_cert, dead_on_file in entries(mi if fast else None):
            if fast and not f.interesting:  # nothing recorded, no demand, no death: at most a suspension
                key = (id(c), no_cert, f.start >= after)
                p = shared.get(key)
                if p is None:
                    p = shared[key] = fresh_plan(f, c, month, gl, guard_go_live=no_cert)
                if p:
                    # plain: what the set-wise path takes (a certification on file, no death recorded)
                    (out if no_cert or dead_on_file else plain).append(_Entry(f, None, p, (make, rule, c)))
                continue
            led = EntitlementLedger(f, rule, go_live=gl, last_run=last_run, clk=c)
            p = plan(led, month, guard_go_live=no_cert)
            if p or not fast:
                out.append(_Entry(f, led, p))
        # the plain suspensions (nothing recorded, a certification on file) come after the rest,
        # as the set-wise path instructs and answers them: one order whichever path computed it
        out.extend(plain)
        # who they are, only for those with something to say
        who = lrepo.person_names(conn, sorted({e.facts.person_id for e in out}))
        for e in out:
            e.facts.id_number, e.facts.name = who.get(e.facts.person_id, ("", ""))
        fill_missed_deadlines(conn, out)
        if fresh is not None:
            fresh.plan(conn, {r.cohort: r for r in self.db.rule_table().rules()}, month, gl)
        return out, (go_live, last_run)

    # --- forecasts (nothing recorded) ---------------------------------------------------------------

    def compute(self, month: Month, conn, run_day: date | None = None) -> PayrollResult:
        """What a run for ``month`` would instruct, counting facts up to ``run_day`` (forecasts:
        the due list, the resumption a returned form brings). Nothing is recorded."""
        run_day = run_day or self.run_day(month)
        fresh = FreshPlans() if self.set_wise else None
        entries, _ = self._plans(conn, month, run_day, fresh=fresh)
        if fresh is None:
            return result_from_plans(month, run_day, entries, confirm=True)
        try:
            records, recs, deaths = plan_records(month, entries, confirm=True)
            return assemble(month, run_day, records, recs, deaths, list(fresh.suspensions(conn)))
        finally:
            fresh.clear(conn)

    def forecast_person(self, person_id: str, month: Month, run_day: date) -> PayrollResult:
        with self.db.engine.connect() as conn:
            entries, _ = self._plans(conn, month, run_day, person_id=person_id)
        return result_from_plans(month, run_day, entries, confirm=True)

    # --- the run --------------------------------------------------------------------------------

    def latest_run(self) -> Month | None:
        with self.db.engine.connect() as conn:
            last = lrepo.run_months(conn)[1]
        return Month.parse(last) if last else None

    def run(self, month: Month, actor: Actor, *, record: bool = True, confirm_go_live: bool = False) -> PayrollResult:
        require(self.db, actor, "payroll.run" if record else "payroll.preview")
        if confirm_go_live:
            require(self.db, actor, "payroll.approve_resumption")  # a supervisor's decision
        run_day = self.run_day(month)
        # a run makes hundreds of thousands of small acyclic objects: the cyclic collector would
        # walk the whole heap again and again for nothing (a third of a go-live month's time)
        gc_was = gc.isenabled()
        gc.disable()
        try:
            return self._run(month, run_day, actor, record=record, confirm_go_live=confirm_go_live)
        finally:
            if gc_was:
                gc.enable()

    def _run(self, month: Month, run_day: date, actor: Actor, *, record: bool, confirm_go_live: bool) -> PayrollResult:
        with self.db.engine.connect() as conn:
            tx = conn.begin()
            try:
                last = lrepo.run_months(conn)[1]
                if last is not None and str(month) < last:
                    raise UserFacingError(
                        f"已记录 {last} 的发放指令，不能再运行更早的 {month}；迟到的认证和更正会在下一次运行中补发或追回",
                        code="run_out_of_order")
                fresh = FreshPlans() if self.set_wise else None
                entries, _ = self._plans(conn, month, run_day, fresh=fresh)
                guarded = [e for e in entries if e.plan.go_live_guarded]
                if confirm_go_live:
                    for e in guarded:  # confirmed: suspend them like everyone else
                        e.plan = plan(e.ledger, month, no_cert=True)
                # the answer: what was recorded for this month before, and what this run adds
                records, recs, deaths = self._month_records(conn, str(month))
                cases = self._record(conn, month, run_day, entries, actor, confirm_go_live and bool(guarded), fresh)
                new_records, new_recs, new_deaths = plan_records(
                    month, entries, confirm=False, case_ids={c["entitlement_id"]: c["id"] for c in cases})
                # the set-wise suspensions were instructed after the others: they come last
                result = assemble(month, run_day, records + new_records, recs + new_recs, {**deaths, **new_deaths},
                                  fresh.suspensions(conn) if fresh is not None else ())
                if fresh is not None:
                    fresh.clear(conn)
                result.go_live_guard = [] if confirm_go_live else [guard_item(e) for e in guarded]
                result.go_live_confirmed = confirm_go_live and bool(guarded)
                result.recorded = record
                if record:
                    # a big run: the WAL is checkpointed after the commit, on a background thread
                    with bulk_write(conn) if len(entries) + (fresh.count if fresh else 0) >= BULK_RUN else nullcontext():
                        tx.commit()
                else:
                    tx.rollback()
            except BaseException:
                if tx.is_active:
                    tx.rollback()
                raise
        return result

    def _record(self, conn, month: Month, run_day: date, entries: list[_Entry], actor: Actor, confirmed: bool,
                fresh: FreshPlans | None = None) -> list:
        ms = str(month)
        n_events, cases = self.record_instructions(conn, month, entries, actor, counts=True, fresh=fresh)
        run_row = {"id": new_id(), "month": ms, "run_day": run_day,
                   "summary": json.dumps({"events": n_events, "recoveries": len(cases)}),
                   "go_live_confirmed_by": actor.operator if confirmed else None,
                   "operator": actor.operator, "workstation": actor.workstation, "created_at": utcnow()}
        lrepo.insert_run(conn, run_row)
        journal.audit(conn, actor.operator, actor.workstation, "payroll.run", "payroll_run", run_row["id"],
                      {"month": ms, "events": n_events, "recoveries": len(cases), "go_live_confirmed": confirmed})
        journal.enqueue(conn, [("payroll_run", run_row["id"], None)])
        return cases

    def record_instructions(self, conn, month: Month, entries: list[_Entry], actor: Actor, *, counts: bool = False,
                            fresh: FreshPlans | None = None):
        """Store the plans as instructions of payroll month ``month`` (and ``fresh``'s suspensions,
        after them); returns the recovery cases opened (and, with ``counts``, the number of
        events first)."""
        ms = str(month)
        now = utcnow()
        new_events, voids, cases, status_rows, audit, outbox = [], [], [], [], [], []
        kinds: dict[str, int] = {}
        dumps = detail_encoder()
        ids = id_stream()

        def event(eid, kind, detail, needs=False):
            effective = detail.get("resume_from") or ms if kind == "resume" else ms
            new_events.append((next(ids), eid, kind, effective, int(bool(needs)), dumps(detail)))
            kinds[kind] = kinds.get(kind, 0) + 1

        for e in entries:
            p, f = e.plan, e.facts
            if p.void_pending:
                voids.append(p.void_pending)
            if p.status:
                kind, detail = p.status
                event(f.entitlement_id, kind, detail)
                status_rows.append((ENT_STATUS[kind], ms, f.entitlement_id))
            if p.back_pay:
                event(f.entitlement_id, "back_pay", back_pay_detail(e, month), p.back_pay[2])
            if p.recover:
                months, fen = p.recover
                case = {"id": new_id(), "entitlement_id": f.entitlement_id, "person_id": f.person_id,
                        "opened_month": ms, "overpaid_months": json.dumps([str(m) for m in months]),
                        "amount_fen": fen, "method": None, "status": "open",
                        "note": None, "created_at": now}
                cases.append(case)
                audit.append(("recovery.opened", "recovery_case", case["id"], {"month": ms, "months": len(months)}))
                outbox.append(("recovery_case", case["id"], journal.row_payload(case)))
            for case_id, months, fen in p.cancels:
                event(f.entitlement_id, "recovery_cancel",
                      {"case_id": case_id, "months": [str(m) for m in months], "amount": yuan(fen)})
                reduce_case(conn, case_id, months, fen, ms, audit, outbox)

        # set-wise: one statement per table, bulk outbox entries, one audit event for the instructions
        repo.void_events(conn, voids, now, "superseded by a later run (pending back pay grew or is no longer owed)")
        journal.enqueue_bulk(conn, "entitlement_event", voids, now)
        # what every instruction of the run shares is written into the statement once
        bulk.insert_rows(conn, repo.events, ("id", "entitlement_id", "kind", "effective_month", "needs_approval",
                                             "detail"), new_events,
                         constants={"payroll_month": ms, "approved_by": None, "approved_at": None,
                                    "voided_at": None, "void_reason": None, "operator": actor.operator,
                                    "workstation": actor.workstation, "created_at": bulk._iso_datetime(now)})
        journal.enqueue_bulk(conn, "entitlement_event", [r[0] for r in new_events], now)
        lrepo.set_status(conn, status_rows, now)
        journal.enqueue_bulk(conn, "entitlement", [r[2] for r in status_rows], now)
        repo.insert_recoveries(conn, cases)
        n_fresh = fresh.record(conn, month, actor, now) if fresh is not None else 0
        if n_fresh:
            kinds["suspend"] = kinds.get("suspend", 0) + n_fresh
        if new_events or voids or n_fresh:
            audit.insert(0, ("payroll.instructions", "payroll_month", None,
                             {"month": ms, "kinds": kinds, "voided": len(voids)}))
        journal.audit_many(conn, actor.operator, actor.workstation, audit)
        journal.enqueue(conn, outbox)
        return (len(new_events) + n_fresh, cases) if counts else cases

    def _month_records(self, conn, ms: str) -> tuple[list, list, dict]:
        """The instructions and recovery demands recorded for payroll month ``ms`` (see assemble)."""
        records = []
        wanted = (*STATUS_KINDS, "back_pay", "recovery_cancel")
        for eid, pid, number, name, cohort, kind, detail, needs, approved in lrepo.month_instructions(conn, ms):
            if kind in wanted:
                records.append((eid, pid, number, name, cohort, kind, json.loads(detail or "{}"),
                                bool(needs) and not approved))
        cs = lrepo.cases_of_month(conn, ms)
        recs, deaths = [], {}
        if cs:
            who = lrepo.identities(conn, sorted({c["entitlement_id"] for c in cs}))
            # the amount each demand had when its month opened it: a later correction reduces the
            # case (a work item) but never what this month instructed
            withdrawn = lrepo.cancelled_fen_of_cases(conn, sorted({c["entitlement_id"] for c in cs}))
            for c in cs:
                pid, number, name, cohort = who[c["entitlement_id"]]
                fen, back = c["amount_fen"], withdrawn.get(c["id"], 0)
                opened = None if fen is None or back is None else fen + back
                recs.append((c["entitlement_id"], pid, number, name, cohort, c["id"], json.loads(c["overpaid_months"]),
                             opened))
            deaths = lrepo.death_dates_of(conn, sorted({r[1] for r in recs}))
        return records, recs, deaths

    # --- approvals ----------------------------------------------------------------------------

    def approve_resumption(self, event_id: str, approver: Actor) -> bool:
        """A supervisor approves a pending back pay: it is instructed, each month once, by the
        next run (a new approved instruction of that month; the pending one is voided)."""
        require(self.db, approver, "payroll.approve_resumption")
        now = utcnow()
        with self.db.engine.begin() as conn:
            ev = lrepo.event_by_id(conn, event_id)
            if ev is None or ev["voided_at"] is not None or not ev["needs_approval"] or ev["approved_by"]:
                return False
            if ev["kind"] == "back_pay":
                last = lrepo.run_months(conn)[1]
                nxt = str(Month.parse(last) + 1) if last else ev["payroll_month"]
                repo.void_events(conn, [event_id], now, "approved: instructed by the next run")
                row = {**ev, "id": new_id(), "payroll_month": nxt, "effective_month": nxt, "approved_by": approver.operator,
                       "approved_at": now, "voided_at": None, "void_reason": None, "operator": approver.operator,
                       "workstation": approver.workstation, "created_at": now}
                repo.insert_events(conn, [row])
                outbox = [("entitlement_event", event_id, None), ("entitlement_event", row["id"], journal.row_payload(row))]
            else:  # a resumption recorded before the ledger
                repo.approve_event(conn, event_id, approver.operator, now)
                outbox = [("entitlement_event", event_id, None)]
            journal.audit(conn, approver.operator, approver.workstation, "payroll.resume_approved",
                          "entitlement_event", event_id, None)
            journal.enqueue(conn, outbox)
        return True

    # --- the ledger of a person -----------------------------------------------------------------

    def ledgers_of(self, person_id: str, through: Month | None = None, as_of: date | None = None, *,
                   last_months: int | None = None) -> list[dict]:
        """The ledger of each entitlement of a person, through ``through`` (default: this month,
        or the latest run if later); ``last_months``: a fixed window ending there (the strip)."""
        as_of = as_of or date.today()
        with self.db.engine.connect() as conn:
            first, last = lrepo.run_months(conn)
            through = through or (Month.parse(last) if last and Month.parse(last) > Month.of(as_of) else Month.of(as_of))
            run_day = min(self.run_day(through), as_of) if through <= Month.of(as_of) else as_of
            entries, (go_live, last_run) = self._plans(conn, through, run_day, person_id=person_id, fast=False)
        out = []
        for e in entries:
            led = e.ledger
            fi = led.first_interesting(for_view=True)
            start = min(led.go_live, fi) if led.go_live else fi
            if last_months:
                start = through - (last_months - 1)
            first_shown = max(start, led.start_month)
            item = {"cohort": e.facts.cohort, "entitlement_id": e.facts.entitlement_id,
                    "months": led.months(first_shown, through) if first_shown <= through else []}
            o = led.outstanding(through)
            item.update(back_pay_outstanding=o["back_pay_outstanding"], recovery_open=o["recovery_open"],
                        overpaid_unclaimed=o["overpaid_unclaimed"])
            out.append(item)
        return out

    def ledger(self, id_number: str, through: Month | None = None, as_of: date | None = None) -> dict:
        number = idnumber.normalize(id_number)
        with self.db.engine.connect() as conn:
            person = repo.person_by_number(conn, number)
        if person is None:
            raise NotFound("系统中没有该身份号码的待遇领取人员", number=idnumber.mask(number))
        return {"id_number": number, "entitlements": self.ledgers_of(person["id"], through, as_of)}


