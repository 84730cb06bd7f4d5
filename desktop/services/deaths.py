"""Deaths, overpayments and their recovery; a death recorded in error reversed (docs/domain.md §3).

``report_death``  records the death, stops every entitlement at once (status ``terminated``), and
                  computes the overpayment — the months from the month after death that payroll
                  runs already paid — with the same pure ``desktop.domain.payroll.compute`` the payroll
                  run uses, for the next payroll month. A recovery case is opened for that month,
                  so the payroll run of that month records the termination event and finds the
                  case already open (it opens each case once per month).
``set_plan``      one repayment (lump_sum), instalments (a monthly plan) or offset against a later
                  payment such as the funeral grant (条例 第四十六条); ``record_payment`` applies
                  money to the oldest unpaid instalments and closes the case when all is repaid.
``reverse_death`` a supervisor undoes a death recorded in error ("the dead living"). The
                  termination stays in the history; a ``reverse_termination`` event puts the
                  entitlement back in the suspended state from the month payment stopped, with
                  the death date as the missed deadline, so the first payroll run after a
                  certification dated after that day resumes payment with back pay for every
                  month withheld. The recovery cases are cancelled (those months were owed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from db import journal
from db import outreach_repo as orepo
from db import repositories as repo
from db.models import new_id, utcnow
from desktop.domain import idnumber
from desktop.errors import NotFound, UserFacingError
from desktop.domain.labels import METHOD_ZH  # noqa: F401 - re-exported; defined there for the pages
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS
from desktop.services.access import require
from desktop.services.database import Database
from desktop.platform.workstation import Actor

if TYPE_CHECKING:
    from desktop.services.payroll import PayrollService

METHODS = ("lump_sum", "instalments", "offset")
STATUS_ZH = {"open": "待追回", "planned": "追回中", "recovered": "已追回", "cancelled": "已撤销",
             "void": "已作废（未发出）"}


def _d(v) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


@dataclass(frozen=True, slots=True)
class DeathOutcome:
    person_id: str
    death_date: date
    payroll_month: str  # the run that records the termination
    terminations: tuple[dict, ...]
    recoveries: tuple[dict, ...]  # overpaid months and amount per entitlement
    case_ids: tuple[str, ...]

    @property
    def overpaid_total(self) -> float | None:
        amounts = [r["overpaid_amount"] for r in self.recoveries]
        return None if any(a is None for a in amounts) else round(sum(amounts), 2)


@dataclass(frozen=True, slots=True)
class PendingDeath:
    """A death on file whose entitlements have not been stopped yet."""

    person_id: str
    name: str
    id_number: str
    death_date: date | None
    source: str | None
    cohorts_zh: tuple[str, ...]

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)


@dataclass(frozen=True, slots=True)
class Reversal:
    person_id: str
    entitlement_id: str
    cohort_zh: str
    suspended_since: str | None  # month payment stopped (None: the termination never took effect)
    expected_back_pay_months: tuple[str, ...]  # if a certification after the death date is on file
    expected_back_pay: float | None


@dataclass(frozen=True, slots=True)
class Instalment:
    id: str
    seq: int
    due_month: str
    amount: float
    paid: float
    paid_on: date | None
    status: str


@dataclass(frozen=True, slots=True)
class RecoveryView:
    id: str
    person_id: str
    entitlement_id: str
    name: str
    id_number: str
    cohort_zh: str
    death_date: date | None
    opened_month: str
    overpaid_months: tuple[str, ...]
    amount: float | None
    method: str | None
    status: str
    note: str | None
    plan: tuple[Instalment, ...]
    created_at: datetime | None = None

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)

    @property
    def paid(self) -> float:
        return round(sum(i.paid for i in self.plan if i.status != "cancelled"), 2)

    @property
    def outstanding(self) -> float | None:
        return None if self.amount is None else round(self.amount - self.paid, 2)

    @property
    def method_zh(self) -> str:
        return METHOD_ZH.get(self.method or "", "未定")

    @property
    def status_zh(self) -> str:
        return STATUS_ZH.get(self.status, self.status)


class DeathService:
    def __init__(self, db: Database, payroll: PayrollService):
        self.db = db
        self.payroll = payroll

    def next_payroll_month(self, conn, as_of: date) -> Month:
        """The next payroll run: this month's if its run day has not come yet, else next month's —
        and always after the latest month with recorded events (a run made early)."""
        from db import ledger_repo as lrepo

        here = Month.of(as_of)
        nxt = here if as_of < self.payroll.run_day(here) else here + 1
        last = lrepo.run_months(conn)[1]
        if last is None:
            return nxt
        last_m = Month.parse(last)
        if last_m < here:
            return max(here, last_m + 1)  # this month's run is still to be made (late)
        return max(nxt, last_m + 1)

    # --- death ---------------------------------------------------------------------------------

    def report_death(self, person_id: str, death_date: date, actor: Actor, *, source: str = "窗口登记",
                     as_of: date | None = None) -> DeathOutcome:
        require(self.db, actor, "death.record")
        as_of = as_of or date.today()
        if death_date > as_of:
            raise UserFacingError("死亡日期不能晚于今天", code="future_date")
        with self.db.engine.begin() as conn:
            person = repo.person_by_id(conn, person_id)
            if person is None:
                raise NotFound("没有找到该人员")
            if person["death_date"] is not None:
                raise UserFacingError(f"该人员已登记死亡（{_d(person['death_date']).isoformat()}）", code="already_dead")
            return self._stop(conn, person, death_date, source, actor, as_of, new_death=True)

    def pending_deaths(self) -> list[PendingDeath]:
        """Deaths on file (e.g. from the civil-affairs data exchange, which only records the date)
        whose entitlements no payroll run or death report has stopped yet."""
        with self.db.engine.connect() as conn:
            rows = orepo.unprocessed_deaths(conn)
        out: dict[str, dict] = {}
        for r in rows:
            p = out.setdefault(r["person_id"], {**r, "cohorts": []})
            p["cohorts"].append(COHORTS[r["cohort"]].name_zh if r["cohort"] in COHORTS else r["cohort"])
        return [PendingDeath(p["person_id"], p["name"], p["id_number"], _d(p["death_date"]), p["death_source"],
                             tuple(p["cohorts"])) for p in out.values()]

    def process_reported_death(self, person_id: str, actor: Actor, *, as_of: date | None = None) -> DeathOutcome:
        """立即终止并计算多领: a death already on file (the person's death date, set by an import)
        stops the entitlements now and opens the recovery cases, exactly as a death reported at
        the counter would, instead of waiting for the next payroll run."""
        require(self.db, actor, "death.record")
        as_of = as_of or date.today()
        with self.db.engine.begin() as conn:
            person = repo.person_by_id(conn, person_id)
            if person is None:
                raise NotFound("没有找到该人员")
            death = _d(person["death_date"])
            if death is None:
                raise UserFacingError("该人员没有死亡登记", code="not_dead")
            if death > as_of:
                raise UserFacingError("死亡日期晚于今天，请先核实", code="future_date")
            if not any(r["person_id"] == person_id for r in orepo.unprocessed_deaths(conn, person_id)):
                raise UserFacingError("该人员的待遇已终止，无需重复处理", code="already_processed")
            return self._stop(conn, person, death, person["death_source"] or "数据比对", actor, as_of, new_death=False)

    def _stop(self, conn, person: dict, death_date: date, source: str, actor: Actor, as_of: date, *,
              new_death: bool) -> DeathOutcome:
        """Terminate every entitlement of a dead person and open the recovery cases (one transaction)."""
        person_id = person["id"]
        now = utcnow()
        month = self.next_payroll_month(conn, as_of)
        if new_death:
            repo.set_death(conn, person_id, death_date, source, now, actor.operator)
        # the same ledger a payroll run uses, for this person and the next payroll month: the
        # termination and the recovery are recorded as that run's instructions (it finds them done)
        from desktop.services.payroll_answer import result_from_plans as _result_from_plans

        entries, _ = self.payroll._plans(conn, month, as_of, person_id=person_id)
        result = _result_from_plans(month, as_of, entries, confirm=False)
        cases = self.payroll.record_instructions(conn, month, entries, actor)
        case_ids = tuple(c["id"] for c in cases)
        by_ent = {c["entitlement_id"]: c["id"] for c in cases}
        for item in result.recover:
            item["case_id"] = by_ent.get(item["entitlement_id"])
        audit = [("person.death_reported" if new_death else "person.death_processed", "person", person_id,
                  {"death_date": death_date.isoformat(), "source": source, "terminations": len(result.terminate)})]
        journal.audit_many(conn, actor.operator, actor.workstation, audit)
        if new_death:
            journal.enqueue(conn, [("person", person_id, {"id": person_id, "death_date": death_date.isoformat(),
                                                          "death_source": source})])
        return DeathOutcome(person_id, death_date, str(month), tuple(result.terminate), tuple(result.recover),
                            case_ids)

    def reverse_death(self, person_id: str, approver: Actor, reason: str, *, as_of: date | None = None) -> list[Reversal]:
        """Undo a death recorded in error (supervisor or admin only)."""
        require(self.db, approver, "death.reverse")
        if not (reason or "").strip():
            raise UserFacingError("请填写撤销原因", code="needs_reason")
        as_of = as_of or date.today()
        now = utcnow()
        out: list[Reversal] = []
        with self.db.engine.begin() as conn:
            person = repo.person_by_id(conn, person_id)
            if person is None:
                raise NotFound("没有找到该人员")
            death = _d(person["death_date"])
            if death is None:
                raise UserFacingError("该人员没有死亡登记", code="not_dead")
            from db import ledger_repo as lrepo

            month = self.next_payroll_month(conn, as_of)
            ents = repo.entitlements_of(conn, person_id)
            audit, outbox = [], []
            # instructions recorded ahead for a month no run has reached yet (a death reported at
            # the counter) were never sent to payroll: they are voided, not corrected
            last_run = lrepo.run_months(conn)[1]
            rows = lrepo.instruction_rows(conn, [e["id"] for e in ents])
            ahead = [r[0] for r in rows if last_run is None or r[3] > last_run]
            repo.void_events(conn, ahead, now, "death reversed before the run")
            outbox += [("entitlement_event", i, None) for i in ahead]
            kept: dict[str, str] = {}
            for r in rows:
                if r[0] not in ahead and r[2] in ("suspend", "resume", "terminate"):
                    kept[r[1]] = r[2]
            status_rows = []
            for e in ents:
                last_kind = kept.get(e["id"])
                # a termination a run has sent stays in the history: the next run resumes (or, with
                # no valid certification, keeps withheld) and back-pays every month found due
                status = {"terminate": "suspended", "suspend": "suspended"}.get(last_kind, "active")
                status_rows.append({"eid": e["id"], "status": status,
                                    "status_since": e["status_since"] if status != "active" else None,
                                    "updated_at": now})
            for case in orepo.recovery_cases(conn, person_id=person_id):
                if case["status"] in ("open", "planned") and (last_run is None or case["opened_month"] > last_run):
                    orepo.update_case(conn, case["id"], status="void",
                                      note=((case["note"] or "")
                                            + f"\n死亡登记在发放前撤销，未发出：{reason.strip()[:200]}").strip())
                    orepo.replace_plan(conn, case["id"], [])
                    audit.append(("recovery.voided", "recovery_case", case["id"], {"reason": "death_reversed"}))
                elif case["status"] in ("open", "planned"):
                    note = ((case["note"] or "") + f"\n死亡登记撤销：{reason.strip()[:200]}").strip()
                    orepo.update_case(conn, case["id"], status="cancelled", note=note)
                    orepo.replace_plan(conn, case["id"], [])
                    audit.append(("recovery.cancelled", "recovery_case", case["id"], {"reason": "death_reversed"}))
            repo.set_death(conn, person_id, None, None, now, approver.operator)
            repo.set_entitlement_status(conn, status_rows)
            from desktop.services.payroll_answer import result_from_plans as _result_from_plans

            entries, _ = self.payroll._plans(conn, month, as_of, person_id=person_id)
            forecast = _result_from_plans(month, as_of, entries, confirm=True)
            owed = {c["entitlement_id"]: c for c in forecast.corrections if c["kind"] == "back_pay"}
            for e in ents:
                c = owed.get(e["id"])
                stopped = next((i.get("suspended_from") for i in forecast.resume if i["entitlement_id"] == e["id"]), None)
                out.append(Reversal(person_id, e["id"], COHORTS[e["cohort"]].name_zh,
                                    stopped or (e["status_since"] if kept.get(e["id"]) == "terminate" else None),
                                    tuple(c["months"]) if c else (), c["amount"] if c else None))
            audit.insert(0, ("person.death_reversed", "person", person_id,
                             {"death_date": death.isoformat(), "reason": reason.strip()[:200],
                              "entitlements": len(ents), "voided_ahead": len(ahead)}))
            journal.audit_many(conn, approver.operator, approver.workstation, audit)
            outbox.append(("person", person_id, {"id": person_id, "death_date": None, "death_source": None}))
            journal.enqueue(conn, outbox)
        return out

    # --- recovery cases ---------------------------------------------------------------------------

    def cases(self, status: str | None = None, person_id: str | None = None) -> list[RecoveryView]:
        with self.db.engine.connect() as conn:
            rows = orepo.recovery_cases(conn, status, person_id)
            plans = orepo.instalments_of(conn, [r["id"] for r in rows])
        return [self._view(r, plans.get(r["id"], [])) for r in rows]

    def case(self, case_id: str) -> RecoveryView:
        found = [c for c in self.cases() if c.id == case_id]
        if not found:
            raise NotFound("没有找到该追回案件")
        return found[0]

    @staticmethod
    def _view(r: dict, plan: list[dict]) -> RecoveryView:
        return RecoveryView(
            r["id"], r["person_id"], r["entitlement_id"], r["name"], r["id_number"],
            COHORTS[r["cohort"]].name_zh if r["cohort"] in COHORTS else r["cohort"], _d(r["death_date"]),
            r["opened_month"], tuple(json.loads(r["overpaid_months"] or "[]")),
            None if r["amount_fen"] is None else r["amount_fen"] / 100, r["method"], r["status"], r["note"],
            tuple(Instalment(i["id"], i["seq"], i["due_month"], i["amount_fen"] / 100, i["paid_fen"] / 100,
                             _d(i["paid_on"]), i["status"]) for i in plan),
            r.get("created_at"),
        )

    def set_plan(self, case_id: str, method: str, actor: Actor, *, instalments: int = 1,
                 first_month: Month | str | None = None, offset_against: str | None = None,
                 as_of: date | None = None) -> RecoveryView:
        if method not in METHODS:
            raise UserFacingError(f"未知的追回方式：{method}")
        if method == "instalments" and not 2 <= instalments <= 60:
            raise UserFacingError("分期期数应在2到60之间")
        require(self.db, actor, "recovery.manage")
        first = Month.parse(first_month) if isinstance(first_month, str) else (first_month or Month.of(as_of or date.today()))
        now = utcnow()
        with self.db.engine.begin() as conn:
            case = orepo.recovery_case(conn, case_id)
            if case is None:
                raise NotFound("没有找到该追回案件")
            if case["status"] in ("recovered", "cancelled", "void"):
                raise UserFacingError("该案件已结案")
            if case["amount_fen"] is None:
                raise UserFacingError("月待遇金额未知，无法计算追回金额", code="no_amount")
            current = orepo.instalments_of(conn, [case_id]).get(case_id, [])
            for i in current:  # a part-paid instalment closes at what was paid; the rest is re-planned
                if i["status"] == "planned" and i["paid_fen"] > 0:
                    orepo.update_instalment(conn, i["id"], amount_fen=i["paid_fen"], status="paid")
                    i["status"] = "paid"
            paid = sum(i["paid_fen"] for i in current if i["status"] == "paid")
            left = case["amount_fen"] - paid
            n = instalments if method == "instalments" else 1
            base, extra = divmod(left, n)
            rows = [{"id": new_id(), "case_id": case_id, "seq": k + 1, "due_month": str(first + k),
                     "amount_fen": base + (1 if k < extra else 0), "paid_fen": 0, "paid_on": None,
                     "status": "planned", "operator": actor.operator, "created_at": now} for k in range(n)]
            orepo.replace_plan(conn, case_id, rows)
            note = case["note"]
            if method == "offset":
                note = ((note or "") + f"\n抵扣项目：{(offset_against or '丧葬补助金')[:60]}").strip()
            orepo.update_case(conn, case_id, method=method, status="planned", note=note)
            journal.audit(conn, actor.operator, actor.workstation, "recovery.plan", "recovery_case", case_id,
                          {"method": method, "instalments": n, "first_month": str(first), "amount_fen": left})
            journal.enqueue(conn, [("recovery_case", case_id, {"id": case_id, "method": method, "status": "planned"})])
        return self.case(case_id)

    def record_payment(self, case_id: str, amount: float, actor: Actor, *, paid_on: date | None = None) -> RecoveryView:
        """Money received (yuan); applied to the oldest unpaid instalments."""
        require(self.db, actor, "recovery.manage")
        fen = round(amount * 100)
        if fen <= 0:
            raise UserFacingError("金额应大于0")
        paid_on = paid_on or date.today()
        with self.db.engine.begin() as conn:
            case = orepo.recovery_case(conn, case_id)
            if case is None:
                raise NotFound("没有找到该追回案件")
            plan = [i for i in orepo.instalments_of(conn, [case_id]).get(case_id, []) if i["status"] == "planned"]
            if not plan:
                raise UserFacingError("请先确定追回方式")
            due = sum(i["amount_fen"] - i["paid_fen"] for i in plan)
            if fen > due:
                raise UserFacingError(f"金额超过未追回金额（{due / 100:.2f} 元）")
            left = fen
            for i in plan:
                take = min(left, i["amount_fen"] - i["paid_fen"])
                if take <= 0:
                    break
                left -= take
                total = i["paid_fen"] + take
                orepo.update_instalment(conn, i["id"], paid_fen=total, paid_on=paid_on,
                                        status="paid" if total >= i["amount_fen"] else "planned")
            closed = fen == due
            if closed:
                orepo.update_case(conn, case_id, status="recovered")
            journal.audit(conn, actor.operator, actor.workstation, "recovery.payment", "recovery_case", case_id,
                          {"amount_fen": fen, "paid_on": paid_on.isoformat(), "closed": closed})
            journal.enqueue(conn, [("recovery_case", case_id, {"id": case_id, "paid_fen": fen,
                                                              "status": "recovered" if closed else "planned"})])
        return self.case(case_id)
