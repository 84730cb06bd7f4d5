"""Looking people up and asking the clock about them; recording a certification.

``show`` answers the counter's question — is this person covered, until when, and what happens
if not — for every entitlement, on a given day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from db import journal
from db import certification_queries as certq
from db import repositories as repo
from db.models import new_id, utcnow
from desktop.domain import idnumber
from desktop.errors import NotFound, UserFacingError
from desktop.domain.labels import CERT_METHOD_ZH
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS, STATUS_ZH, clock
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.domain.ledger import STATUS_OF_KIND
from desktop.services.payroll_rows import instruction_of_row as _instruction
from db import ledger_repo as lrepo
from desktop.platform.workstation import Actor

METHODS_ZH = CERT_METHOD_ZH  # one table per concept (desktop.domain.labels)
EVENT_ZH = {"suspend": "暂停发放", "resume": "恢复发放", "terminate": "终止发放", "reverse_termination": "撤销终止",
            "back_pay": "补发", "recovery_cancel": "撤销追回"}


@dataclass(frozen=True, slots=True)
class EntitlementView:
    id: str
    cohort: str
    cohort_zh: str
    category_zh: str
    start_date: date
    monthly_amount: float | None
    status: str
    last_certified: date
    deadline: date
    suspend_from: str  # YYYY-MM the rule gives if nothing is done
    payment_suspended_since: str | None  # an open suspension recorded by payroll
    resume_pending: bool
    rule_zh: str

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]

    def as_json(self) -> dict:
        return {
            "entitlement_id": self.id,
            "cohort": self.cohort,
            "cohort_zh": self.cohort_zh,
            "status": self.status,
            "last_certified": self.last_certified.isoformat(),
            "deadline": self.deadline.isoformat(),
            "suspend_from": self.suspend_from,
            "start_date": self.start_date.isoformat(),
            "monthly_amount": self.monthly_amount,
            "payment_suspended_since": self.payment_suspended_since,
            "resume_pending": self.resume_pending,
        }


@dataclass(frozen=True, slots=True)
class HistoryItem:
    when: date
    kind: str  # certification | event
    text_zh: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PersonView:
    id: str
    id_number: str
    name: str
    sex: str | None
    birth_date: date | None
    phone: str | None
    address: str | None
    residence: str
    death_date: date | None
    as_of: date
    entitlements: tuple[EntitlementView, ...]
    history: tuple[HistoryItem, ...] = field(default=())
    outstanding_forms: tuple[dict, ...] = field(default=())

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "id_number": self.id_number,
            "name": self.name,
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "phone": self.phone,
            "address": self.address,
            "residence": self.residence,
            "death_date": self.death_date.isoformat() if self.death_date else None,
            "as_of": self.as_of.isoformat(),
            "entitlements": [e.as_json() for e in self.entitlements],
        }


@dataclass(frozen=True, slots=True)
class PersonSummary:
    id: str
    id_number: str
    name: str
    sex: str | None
    birth_date: date | None
    residence: str

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)


@dataclass(frozen=True, slots=True)
class CertificationRecord:
    id: str
    person_id: str
    cert_date: date
    method: str
    covers: tuple[str, ...]  # entitlement ids


def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class PersonService:
    def __init__(self, db: Database):
        self.db = db

    def search(self, text: str, limit: int = 200) -> list[PersonSummary]:
        norm = idnumber.normalize(text) if text[:1].isdigit() or text[:1] in "０１２３４５６７８９" else text.strip()
        with self.db.engine.connect() as conn:
            rows = repo.search_persons(conn, norm, limit)
        return [PersonSummary(r["id"], r["id_number"], r["name"], r["sex"], _d(r["birth_date"]), r["residence"]) for r in rows]

    def show(self, id_number: str, as_of: date | None = None) -> PersonView:
        number = idnumber.normalize(id_number)
        with self.db.engine.connect() as conn:
            person = repo.person_by_number(conn, number)
            if person is None:
                raise NotFound("系统中没有该身份号码的待遇领取人员", number=idnumber.mask(number))
            return self._view(conn, person, as_of or date.today())

    def show_by_id(self, person_id: str, as_of: date | None = None) -> PersonView:
        with self.db.engine.connect() as conn:
            person = repo.person_by_id(conn, person_id)
            if person is None:
                raise NotFound("没有找到该人员")
            return self._view(conn, person, as_of or date.today())

    def _view(self, conn, person: dict, as_of: date) -> PersonView:
        rules = self.db.rule_table()
        ents = repo.entitlements_of(conn, person["id"])
        certs = certq.certifications_of(conn, person["id"])
        events = [e for e in repo.events_of_entitlements(conn, [e["id"] for e in ents]) if e["voided_at"] is None]
        upto = str(Month.of(as_of))
        steps: dict[str, list] = {}
        for row in lrepo.instruction_rows(conn, [e["id"] for e in ents]):
            ins = _instruction(row)
            if row[3] <= upto and ins.kind in STATUS_OF_KIND and not ins.pending:
                steps.setdefault(row[1], []).append(ins)
        passed = sorted(_d(c["cert_date"]) for c in certs if c["result"] == "passed" and _d(c["cert_date"]) <= as_of)
        death = _d(person["death_date"])
        if death is not None:
            passed = [x for x in passed if x <= death]  # a certification after death is no proof of life
        last = passed[-1] if passed else None
        views = []
        for e in ents:
            rule = rules[e["cohort"]]
            c = clock(rule, _d(e["start_date"]), last)
            status = c.status_on(as_of, rule.warn_days)
            suspended_since = None
            resume_pending = False
            state, since = "paid", None
            for ins in steps.get(e["id"], []):
                st = STATUS_OF_KIND[ins.kind]
                if st != state:
                    since = ins.effective
                state = st
            if state == "terminated" and death is None:
                state = "withheld"  # the death was withdrawn: the next run resumes or keeps withheld
            if state == "terminated" or (death is not None and death <= as_of):
                status = "terminated"
            elif state == "withheld":
                suspended_since = str(since)
                if c.suspend_month > Month.of(as_of):
                    resume_pending = True  # covered again: the next run resumes with back pay
                else:
                    status = "suspended"
            cohort = COHORTS[e["cohort"]]
            views.append(
                EntitlementView(
                    e["id"], e["cohort"], cohort.name_zh, cohort.category_zh, _d(e["start_date"]),
                    None if e["monthly_amount_fen"] is None else e["monthly_amount_fen"] / 100,
                    status, c.last, c.deadline, str(c.suspend_month), suspended_since, resume_pending,
                    rule.describe_zh(),
                )
            )
        history = [
            HistoryItem(_d(c["cert_date"]), "certification",
                        f"{METHODS_ZH.get(c['method'], c['method'])}{'' if c['result'] == 'passed' else '（未通过）'}",
                        c["operator"] or "")
            for c in certs
        ]
        cohort_of = {e["id"]: COHORTS[e["cohort"]].name_zh for e in ents}
        for ev in events:
            what = EVENT_ZH.get(ev["kind"], ev["kind"])
            if ev["kind"] in ("back_pay", "recovery_cancel"):
                months = json.loads(ev["detail"] or "{}").get("months") or []
                span = f"{months[0]}～{months[-1]}，{len(months)}个月" if len(months) > 1 else "".join(months)
                if ev["needs_approval"] and not ev["approved_by"]:
                    what += "（待主管审核）"
                text_zh = f"{what}（{cohort_of.get(ev['entitlement_id'], '')}，{span}）"
            else:
                text_zh = f"{what}（{cohort_of.get(ev['entitlement_id'], '')}，自{ev['effective_month']}）"
            history.append(HistoryItem(Month.parse(ev["payroll_month"]).first_day(), "event", text_zh,
                                       ev["operator"] or ""))
        history.sort(key=lambda h: h.when, reverse=True)
        forms = tuple(
            {"serial": f["serial"], "deadline": _d(f["deadline"]), "issued_at": f["issued_at"]}
            for f in repo.outstanding_forms_of(conn, person["id"])
        )
        return PersonView(
            person["id"], person["id_number"], person["name"], person["sex"], _d(person["birth_date"]),
            person["phone"], person["address"], person["residence"], death, as_of, tuple(views), tuple(history), forms,
        )

    # --- recording ------------------------------------------------------------------------

    def record_certification(
        self, person_id: str, cert_date: date, method: str, actor: Actor, *,
        evidence: dict | None = None, approver: str | None = None, result: str = "passed",
        today: date | None = None, attach=None,
    ) -> CertificationRecord:
        """One proof of life: covers every active entitlement of the person (docs/domain.md §1).

        The certification, its audit event and its outbox entry commit in one transaction, so a
        power cut leaves the certification either complete or absent. ``attach(conn, cert_id)``
        runs inside that transaction (e.g. to store the encrypted captured photo).
        """
        require(self.db, actor, "certification.record")
        if method not in METHODS_ZH:
            raise UserFacingError(f"未知的认证方式：{method}")
        if cert_date > (today or date.today()):
            raise UserFacingError("认证日期不能晚于今天", code="future_date")
        if method == "staff_attestation" and not approver:
            raise UserFacingError("人工核验需要审核主管审批", code="needs_approver")
        now = utcnow()
        with self.db.engine.begin() as conn:
            person = repo.person_by_id(conn, person_id)
            if person is None:
                raise NotFound("没有找到该人员")
            death = _d(person["death_date"])
            ents = [e for e in repo.entitlements_of(conn, person_id) if e["status"] != "terminated"]
            ev = dict(evidence or {})
            refused = death if death is not None and cert_date > death and result == "passed" else None
            if refused is not None:
                _open_after_death_case(conn, person_id, cert_date, death, method, actor)
            else:
                row = {
                    "id": new_id(), "person_id": person_id, "cert_date": cert_date, "method": method, "result": result,
                    "evidence": json.dumps(ev, ensure_ascii=False, default=str), "operator": actor.operator,
                    "approver": approver, "workstation": actor.workstation, "batch_id": None, "created_at": now,
                }
                repo.insert_certifications(conn, [row])
                journal.audit(conn, actor.operator, actor.workstation, "certification.record", "certification",
                              row["id"], {"method": method, "result": result, "date": cert_date.isoformat(),
                                          "approver": approver, "covers": len(ents)})
                journal.enqueue(conn, [("certification", row["id"], journal.row_payload(row))])
            if attach is not None and refused is None:
                attach(conn, row["id"])
        if refused is not None:
            raise UserFacingError(
                f"该人员已登记死亡（{refused.isoformat()}），死亡之后的认证不能作为生存证明，未予记录；已转主管核查",
                code="certified_after_death")
        return CertificationRecord(row["id"], person_id, cert_date, method, tuple(e["id"] for e in ents))


def _open_after_death_case(conn, person_id: str, cert_date: date, death: date, method: str, actor: Actor) -> None:
    """A certification dated after a recorded death is refused and becomes a supervisor's case
    (the classic sign of someone else using the dead person's account)."""
    from db.models import SyncConflict

    now = utcnow()
    detail = {"cert_date": cert_date.isoformat(), "death_date": death.isoformat(), "method": method,
              "certified_by": actor.operator, "certified_at": actor.workstation, "refused": True}
    row = {"id": new_id(), "kind": "certified_after_death", "entity": "person", "entity_id": person_id,
           "person_id": person_id, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
           "workstation": actor.workstation, "status": "open", "resolved_by": None, "resolved_at": None,
           "created_at": now, "updated_at": now}
    conn.execute(SyncConflict.__table__.insert(), [row])
    journal.audit(conn, actor.operator, actor.workstation, "certification.refused_after_death", "person", person_id,
                  {"cert_date": cert_date.isoformat(), "death_date": death.isoformat(), "method": method})
    journal.enqueue(conn, [("sync_conflict", row["id"], journal.row_payload(row))])
