"""Assist forms for remote residents (协助认证表, domain.md §5): issue, batch, reprint, receive, track.

Decisions (issue 6):

* **Who may get a form.** ``issue`` prints a form for anyone on request (a local resident may be
  travelling); ``batch`` only picks remote (异地) residents. Nobody gets a second form while one is
  outstanding: reprint it, or cancel it first. The deceased and people with no live entitlement
  are refused.
* **The deadline printed** is the person's earliest upcoming deadline (≥ today) over their live
  entitlements. When every deadline has already passed (overdue or suspended) the form carries a
  follow-up date ``today + FOLLOW_UP_DAYS`` instead: returning it any time still certifies and
  resumes payment (§3), the date only drives the overdue list.
* **Batch** = remote, living, no outstanding form, and some live entitlement's deadline within
  ``[as_of, as_of + N]``. People already past their deadline are not re-picked by a batch (issue
  them individually), so a batch never prints a deadline in the past.
* **Serials** are ``AES-<year>-<TAG>-<6 digits>``: ``TAG`` is 4 characters derived from this
  installation's workstation id (:func:`workstation_tag`), so workstations that keep their own
  database and sync never hand out the same serial; each workstation numbers its own forms as
  max + 1 of its own prefix. Older serials ``AES-<year>-<6 digits>`` (before the tag) stay valid for
  receiving, reprinting and cancelling. The PDF is written first and the forms recorded after it (a cancelled or failed
  render records nothing); if another workstation took the same serials meanwhile the unique
  constraint refuses the insert and the batch is re-rendered with fresh serials.
* **Receiving** checks the QR's signature (qrsign), that the signed ID reference belongs to the
  form's person, the person the clerk has open (``expected_id_number``), the form's status and the
  body's date; it then records a ``remote_assist`` certification dated on the body's date through
  :meth:`PersonService.record_certification` and closes the form. Those are two transactions
  (record_certification owns its own); a retry after a crash between them finds the certification
  by its serial and does not record it twice.
* A typed serial (no QR) skips the signature, so it needs a supervisor (issue 15 §4): a clerk's
  receipt by typed serial is refused (``typed_needs_supervisor``) unless a supervisor confirmed it
  with their own login (``confirmed_by``); it is accepted with the flag ``typed_serial`` and the
  confirming supervisor in the audit.
* **Keys** (issue 15 §4): an enrolled workstation signs with the central key ring it received at
  sync (QR version 2, key id in the payload; serials carry its centrally allocated tag); a command
  run on a database that holds keys itself (the central PostgreSQL, or a standalone installation
  that made its own with ``certdesk central keys rotate``) uses those; the old per-installation
  ``qr-hmac.key`` still verifies version-1 forms. No installation makes a key on its own in
  production; demo and test mode may.

Nothing here logs an ID number; audit details carry serials and masked numbers only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy.exc import IntegrityError

from db import forms_repo
from db import journal
from db import repositories as repo
from db.models import new_id, utcnow
from desktop import idnumber, paths, qrsign
from desktop.errors import NotFound, UserFacingError
from desktop.months import Month
from desktop.printing.assist_form import label_for, render_forms, render_labels
from desktop.printing.data import BureauInfo, FormData
from desktop.rules import COHORTS, clock
from desktop.services.database import Database
from desktop.services.payroll import PayrollService
from desktop.services.persons import PersonService
from desktop.services.settings import SettingsService
from desktop.workstation import Actor

SERIAL_PREFIX = "AES"
TAG_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
TAG_LEN = 4
FOLLOW_UP_DAYS = 60
INSERT_RETRIES = 3
METHOD = "remote_assist"

# Stable reason codes of a refused or flagged form -> what the clerk reads.
REASONS_ZH = {
    **qrsign.REASONS,
    "ok": "认证表有效，可以登记",
    "accepted": "已登记异地协助认证",
    "no_qr": "图像中没有找到本系统认证表的二维码，请重新扫描或手工输入表格编号",
    "scan_error": "无法读取扫描文件",
    "bad_serial": "表格编号格式错误（应为字母、数字和“-”，例如 AES-2026-7K3M-000123）",
    "unknown_serial": "系统中没有这个表格编号：可能不是本机构打印的认证表",
    "foreign_form": "这份认证表不是当前人员的，请核对后再登记",
    "id_mismatch": "二维码与表格登记的人员不一致：认证表可能被篡改",
    "deadline_mismatch": "二维码中的截止日期与登记的不一致：认证表可能被篡改",
    "already_received": "这份认证表已经登记过，不能重复登记",
    "cancelled": "这份认证表已作废，不能登记",
    "future_date": "认证单位的认证日期不能晚于今天",
    "before_issue": "认证单位的认证日期早于表格打印日期，请核对",
    "missing_body": "请填写认证单位名称",
    "missing_certifier": "请填写经办人（认证人）姓名",
    "deceased": "该人员已登记死亡，不能认证",
    "typed_needs_supervisor": "手工输入编号（未校验二维码）登记需要审核主管用本人账号确认；或扫描表格上的二维码",
}
FLAGS_ZH = {
    "returned_late": "认证表在截止日期后才寄回",
    "certified_after_deadline": "认证单位的认证日期晚于截止日期",
    "typed_serial": "手工输入编号，未校验二维码，请仔细核对公章",
    "certified_after_reported_death": "认证日期晚于登记的死亡日期，请核查",
}

ProgressFn = Callable[[int, int], None]


# --------------------------------------------------------------------------- DTOs

@dataclass(frozen=True, slots=True)
class IssuedForm:
    serial: str
    person_id: str
    name: str
    id_number: str
    deadline: date

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)


@dataclass(frozen=True, slots=True)
class IssueResult:
    form: IssuedForm
    pdf: str

    @property
    def serial(self) -> str:
        return self.form.serial


@dataclass(frozen=True, slots=True)
class BatchCandidate:
    person_id: str
    name: str
    id_number: str
    deadline: date

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)


@dataclass(frozen=True, slots=True)
class FormsBatchResult:
    forms: tuple[IssuedForm, ...]
    pdf: str | None
    labels: str | None
    cancelled: bool = False
    batch_id: str | None = None

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(f.serial for f in self.forms)

    def as_json(self) -> dict:
        return {"forms": len(self.forms), "serials": list(self.serials), "pdf": self.pdf,
                "labels": self.labels, "cancelled": self.cancelled}


@dataclass(frozen=True, slots=True)
class FormRow:
    """One line of a tracking list (ID numbers are shown masked)."""

    serial: str
    person_id: str
    name: str
    id_number: str
    phone: str | None
    address: str | None
    deadline: date
    issued_on: date
    printed_count: int
    status: str
    days_overdue: int  # 0 when not yet past the deadline

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)

    def as_json(self) -> dict:
        return {"serial": self.serial, "name": self.name, "id_number": self.masked_id, "phone": self.phone,
                "deadline": self.deadline.isoformat(), "issued_on": self.issued_on.isoformat(),
                "printed_count": self.printed_count, "status": self.status, "days_overdue": self.days_overdue}


@dataclass(frozen=True, slots=True)
class ResumptionForecast:
    """What the next payroll run will do for one entitlement after this certification (§3)."""

    cohort: str
    cohort_zh: str
    suspended_from: str  # YYYY-MM
    resume_from: str | None  # YYYY-MM
    back_pay_months: tuple[str, ...]
    back_pay_amount: float | None
    needs_approval: bool

    def text_zh(self) -> str:
        months = "、".join(self.back_pay_months) if self.back_pay_months else "无"
        amount = f"，合计 {self.back_pay_amount:.2f} 元" if self.back_pay_amount is not None else ""
        approval = "；暂停超过12个月，需主管审核后恢复" if self.needs_approval else ""
        return f"{self.cohort_zh}：自 {self.resume_from} 恢复发放，补发 {months}{amount}{approval}"

    def as_json(self) -> dict:
        return {"cohort": self.cohort, "suspended_from": self.suspended_from, "resume_from": self.resume_from,
                "back_pay_months": list(self.back_pay_months), "back_pay_amount": self.back_pay_amount,
                "needs_approval": self.needs_approval}


@dataclass(frozen=True, slots=True)
class FormCheck:
    """The verdict on a returned form before (or as) it is accepted."""

    ok: bool
    reason: str
    serial: str | None = None
    person_id: str | None = None
    name: str | None = None
    id_number: str | None = None
    deadline: date | None = None
    status: str | None = None
    qr_verified: bool = False
    flags: tuple[str, ...] = ()

    @property
    def reason_zh(self) -> str:
        return REASONS_ZH.get(self.reason, self.reason)

    @property
    def masked_id(self) -> str | None:
        return idnumber.mask(self.id_number) if self.id_number else None

    @property
    def flags_zh(self) -> tuple[str, ...]:
        return tuple(FLAGS_ZH.get(f, f) for f in self.flags)


@dataclass(frozen=True, slots=True)
class ReceiveResult:
    accepted: bool
    reason: str
    serial: str | None = None
    id_number: str | None = None
    name: str | None = None
    flags: tuple[str, ...] = ()
    certification_id: str | None = None
    cert_date: date | None = None
    deadline: date | None = None
    scan_path: str | None = None
    resumptions: tuple[ResumptionForecast, ...] = field(default=())

    @property
    def reason_zh(self) -> str:
        return REASONS_ZH.get(self.reason, self.reason)

    @property
    def flags_zh(self) -> tuple[str, ...]:
        return tuple(FLAGS_ZH.get(f, f) for f in self.flags)

    @property
    def masked_id(self) -> str | None:
        return idnumber.mask(self.id_number) if self.id_number else None

    def summary_zh(self) -> str:
        if not self.accepted:
            return f"未登记：{self.reason_zh}"
        lines = [f"已登记：{self.name}（{self.masked_id}）异地协助认证，认证日期 {self.cert_date}"]
        lines += [f"注意：{f}" for f in self.flags_zh]
        if self.resumptions:
            lines += ["下次发放时：" + r.text_zh() for r in self.resumptions]
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {"accepted": self.accepted, "serial": self.serial, "id_number": self.id_number,
                "name": self.name, "reason": self.reason, "reason_zh": self.reason_zh, "flags": list(self.flags),
                "certification_id": self.certification_id,
                "cert_date": self.cert_date.isoformat() if self.cert_date else None,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "resumptions": [r.as_json() for r in self.resumptions]}


# --------------------------------------------------------------------------- helpers

def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _issued_on(row: dict) -> date:
    value = row["issued_at"]
    return value.date() if hasattr(value, "date") else _d(value)


def _category(ents: list[dict]) -> str:
    parts = []
    for e in ents:
        c = COHORTS[e["cohort"]]
        text = f"{c.category_zh}（{c.name_zh}）"
        if text not in parts:
            parts.append(text)
    return "；".join(parts)


def workstation_tag(workstation_id: str) -> str:
    """4 characters (20 bits, Crockford base32) derived from a workstation id: the part of a serial
    that keeps forms of different workstations apart. Stable for one id; ids differ → tags differ
    except with probability 2**-20 per pair."""
    import hashlib

    value = int.from_bytes(hashlib.sha256(workstation_id.encode("utf-8")).digest()[:4], "big") >> (32 - 5 * TAG_LEN)
    return "".join(TAG_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(TAG_LEN)))


def _clean_typed_serial(serial: str) -> str:
    """A typed tagged serial with the letters a clerk confuses with digits put right (O→0, I/L→1)."""
    parts = serial.split("-")
    if len(parts) == 4 and len(parts[2]) == TAG_LEN:
        parts[2] = parts[2].translate(str.maketrans("OIL", "011"))
    return "-".join(parts)


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def default_key_provider(db: Database):
    """Where this installation's form keys come from (see the module notes, issue 15 §4)."""
    from desktop import runmode
    from desktop.services import central

    legacy_path = paths.config_dir() / "qr-hmac.key"
    legacy = qrsign.file_key_provider(legacy_path, create=False) if legacy_path.exists() else None
    ring = central.form_key_ring(db) if db.is_sqlite else None
    if ring is None:
        try:
            own = central.central_key_ring(db)  # the central database, or a standalone that keyed itself
        except Exception:  # noqa: BLE001 - an old schema: no key table
            own = None
        if own is not None and own.keys:
            ring = own
    if ring is not None:
        ring.legacy = legacy
        return ring
    if legacy is not None:
        return legacy
    if runmode.simulation_allowed():
        return qrsign.file_key_provider(legacy_path)  # demo/test: a key of its own
    return qrsign.FormKeys({}, None)  # signing refuses with a clear message; verifying says no_key


# --------------------------------------------------------------------------- the service

class FormService:
    """Issue and receive assist forms. Thread contract: every method opens its own connection and
    returns frozen dataclasses, so the UI may call it from its single database worker."""

    def __init__(self, db: Database, key_provider: qrsign.KeyProvider | None = None, *,
                 persons: PersonService | None = None, settings: SettingsService | None = None,
                 payroll: PayrollService | None = None, workstation_id: str | None = None):
        self.db = db
        self._workstation_id = workstation_id
        self._tag: str | None = None
        self.key_provider = key_provider or default_key_provider(db)
        self.persons = persons or PersonService(db)
        self.settings = settings or SettingsService(db)
        self.payroll = payroll or PayrollService(db, self.settings)

    # ----- settings -> printing

    def bureau(self) -> BureauInfo:
        s = self.settings
        return BureauInfo(name=s.get("bureau_name"), phone=s.get("bureau_phone"),
                          return_address=s.get("bureau_address"), return_postcode=s.get("bureau_postcode"),
                          full_id_number=not s.get("mask_id_on_forms"))

    # ----- deadlines

    def _live_entitlements(self, person: dict, ents: list[dict]) -> list[dict]:
        if person.get("death_date") is not None:
            return []
        return [e for e in ents if e["status"] != "terminated"]

    def _deadlines(self, ents: list[dict], last: date | None) -> list[date]:
        rules = self.db.rule_table()
        return sorted(clock(rules[e["cohort"]], _d(e["start_date"]), last).deadline for e in ents)

    @staticmethod
    def form_deadline(deadlines: list[date], today: date) -> date:
        upcoming = [d for d in deadlines if d >= today]
        return upcoming[0] if upcoming else today + timedelta(days=FOLLOW_UP_DAYS)

    # ----- serials and recording

    @property
    def workstation_tag(self) -> str:
        if self._tag is None and self._workstation_id is None and self.db.is_sqlite:
            from desktop.services.central import identity

            ident = identity(self.db)
            if ident is not None:  # enrolled: the tag the centre allocated (unique by construction)
                self._tag = ident.tag
        if self._tag is None:
            if self._workstation_id is None:
                from desktop.workstation import workstation_id

                self._workstation_id = workstation_id()
            self._tag = workstation_tag(self._workstation_id)
        return self._tag

    def serial_prefix(self, year: int) -> str:
        return f"{SERIAL_PREFIX}-{year}-{self.workstation_tag}-"

    def _next_serials(self, conn, n: int, year: int) -> list[str]:
        prefix = self.serial_prefix(year)
        last = forms_repo.last_serial(conn, prefix)
        start = int(last[len(prefix):]) + 1 if last else 1
        return [f"{prefix}{i:06d}" for i in range(start, start + n)]

    def _form_data(self, serial: str, person: dict, ents: list[dict], deadline: date, today: date) -> FormData:
        return FormData(
            serial=serial,
            qr_payload=qrsign.make_payload(serial, person["id_number"], deadline, self.key_provider),
            name=person["name"], sex=person.get("sex") or "", id_number=person["id_number"],
            category=_category(ents), phone=person.get("phone") or "", address=person.get("address") or "",
            deadline=deadline, issued_on=today,
        )

    def _print_and_record(self, people: list[tuple[dict, list[dict], date]], actor: Actor, today: date,
                          out, labels_out, progress, cancel, batch_id: str | None) -> FormsBatchResult:
        """Render, then record; on a serial collision (another workstation), re-render."""
        bureau = self.bureau()
        for attempt in range(INSERT_RETRIES):
            with self.db.engine.connect() as conn:
                serials = self._next_serials(conn, len(people), today.year)
            data = [self._form_data(s, p, e, d, today) for s, (p, e, d) in zip(serials, people)]
            res = render_forms(data, bureau, out, progress=progress, cancel=cancel)
            if res.cancelled:
                return FormsBatchResult((), None, None, True, batch_id)
            try:
                issued = self._record(people, serials, actor, batch_id, today)
            except IntegrityError:
                if attempt == INSERT_RETRIES - 1:
                    raise
                continue
            labels = None
            if labels_out is not None:
                labels = render_labels([label_for(f) for f in data], labels_out, sender=bureau).path
            return FormsBatchResult(issued, res.path, labels, False, batch_id)
        raise AssertionError("unreachable")

    def _record(self, people, serials, actor: Actor, batch_id: str | None, today: date) -> tuple[IssuedForm, ...]:
        now = utcnow()
        if today != now.date() and today != date.today():
            # an explicit business date (--as-of, tests, a back-dated batch): the form's issue date
            # is that day, or a body date on the printed issue day would look "before issue"
            now = datetime.combine(today, now.time())
        rows, issued, audit, outbox = [], [], [], []
        for serial, (person, _ents, deadline) in zip(serials, people):
            row = {"id": new_id(), "serial": serial, "person_id": person["id"], "deadline": deadline,
                   "status": "outstanding", "issued_at": now, "issued_by": actor.operator, "printed_count": 1,
                   "batch_id": batch_id, "received_at": None, "body_name": None, "body_date": None,
                   "certifier": None, "scan_path": None, "certification_id": None, "workstation": actor.workstation}
            rows.append(row)
            issued.append(IssuedForm(serial, person["id"], person["name"], person["id_number"], deadline))
            audit.append(("assist_form.issue", "assist_form", row["id"],
                          {"serial": serial, "deadline": deadline.isoformat(), "batch": batch_id}))
            outbox.append(("assist_form", row["id"], journal.row_payload(row)))
        with self.db.engine.begin() as conn:
            forms_repo.insert_forms(conn, rows)
            journal.audit_many(conn, actor.operator, actor.workstation, audit)
            journal.enqueue(conn, outbox)
        return tuple(issued)

    # ----- issue one

    def issue(self, id_number: str, actor: Actor, out, *, today: date | None = None) -> IssueResult:
        """Print one person's form into ``out`` (a path or binary file) and record it."""
        today = today or date.today()
        number = idnumber.normalize(id_number)
        with self.db.engine.connect() as conn:
            person = repo.person_by_number(conn, number)
            if person is None:
                raise NotFound("系统中没有该身份号码的待遇领取人员", number=idnumber.mask(number))
            if person["death_date"] is not None:
                raise UserFacingError("该人员已登记死亡，不能打印认证表", code="deceased")
            ents = self._live_entitlements(person, repo.entitlements_of(conn, person["id"]))
            if not ents:
                raise UserFacingError("该人员没有正在领取的待遇，无需认证", code="no_entitlement")
            open_forms = repo.outstanding_forms_of(conn, person["id"])
            if open_forms:
                raise UserFacingError(
                    f"该人员已有未寄回的认证表（编号 {open_forms[0]['serial']}），请补打该表或先作废",
                    code="has_outstanding", serial=open_forms[0]["serial"])
            last = self._last_passed(conn, person["id"], today)
        deadline = self.form_deadline(self._deadlines(ents, last), today)
        res = self._print_and_record([(person, ents, deadline)], actor, today, out, None, None, None, None)
        return IssueResult(res.forms[0], res.pdf)

    @staticmethod
    def _last_passed(conn, person_id: str, today: date) -> date | None:
        dates = repo.passed_dates_for_persons(conn, [person_id], today).get(person_id, [])
        return _d(dates[-1]) if dates else None

    # ----- batch

    def batch_candidates(self, due_within_days: int, as_of: date | None = None) -> list[BatchCandidate]:
        """Remote residents with no outstanding form whose deadline falls within N days of ``as_of``."""
        return [BatchCandidate(p["id"], p["name"], p["id_number"], d)
                for p, _e, d in self._candidates(due_within_days, as_of or date.today())]

    def _candidates(self, days: int, as_of: date) -> list[tuple[dict, list[dict], date]]:
        if days < 0:
            raise UserFacingError("天数不能为负数", code="bad_days")
        horizon = as_of + timedelta(days=days)
        rules = self.db.rule_table()
        with self.db.engine.connect() as conn:
            people = forms_repo.remote_persons_without_outstanding_form(conn)
            ents_of = forms_repo.entitlements_of_persons(conn, [p["id"] for p in people])
            last = repo.last_passed_by_person(conn, as_of)
        out = []
        for p in people:
            ents = self._live_entitlements(p, ents_of.get(p["id"], []))
            if not ents:
                continue
            deadlines = sorted(clock(rules[e["cohort"]], _d(e["start_date"]), last.get(p["id"])).deadline
                               for e in ents)
            upcoming = [d for d in deadlines if as_of <= d <= horizon]
            if upcoming:
                out.append((p, ents, upcoming[0]))
        out.sort(key=lambda t: (t[2], t[0]["name"], t[0]["id_number"]))
        return out

    def batch(self, due_within_days: int, actor: Actor, out, *, labels_out=None, as_of: date | None = None,
              progress: ProgressFn | None = None, cancel=None) -> FormsBatchResult:
        """Every remote resident due within N days and without an outstanding form: one PDF (and
        optionally one label sheet PDF). Cancelled → nothing written, nothing recorded."""
        as_of = as_of or date.today()
        people = self._candidates(due_within_days, as_of)
        if not people:
            return FormsBatchResult((), None, None, False, None)
        if _is_cancelled(cancel):
            return FormsBatchResult((), None, None, True, None)
        return self._print_and_record(people, actor, as_of, out, labels_out, progress, cancel, new_id())

    # ----- reprint / cancel

    def reprint(self, serial: str, actor: Actor, out) -> IssueResult:
        """The same form again (same serial, QR and deadline), e.g. when the resident lost it."""
        serial = self._norm_serial(serial)
        with self.db.engine.connect() as conn:
            form = forms_repo.form_by_serial(conn, serial)
            if form is None:
                raise NotFound(REASONS_ZH["unknown_serial"], code="unknown_serial")
            if form["status"] != "outstanding":
                raise UserFacingError(REASONS_ZH["already_received" if form["status"] == "received" else "cancelled"],
                                      code=form["status"])
            ents = self._live_entitlements(form, repo.entitlements_of(conn, form["person_id"]))
        person = {**form, "id": form["person_id"]}
        data = self._form_data(serial, person, ents, _d(form["deadline"]), _issued_on(form))
        res = render_forms([data], self.bureau(), out)
        with self.db.engine.begin() as conn:
            forms_repo.mark_printed(conn, form["id"])
            journal.audit(conn, actor.operator, actor.workstation, "assist_form.reprint", "assist_form", form["id"],
                          {"serial": serial, "printed_count": form["printed_count"] + 1})
            row = forms_repo.form_row(conn, form["id"])
            journal.enqueue(conn, [("assist_form", form["id"], journal.row_payload(row))])
        return IssueResult(IssuedForm(serial, form["person_id"], form["name"], form["id_number"],
                                      _d(form["deadline"])), res.path)

    def cancel(self, serial: str, actor: Actor, reason: str = "") -> None:
        serial = self._norm_serial(serial)
        with self.db.engine.begin() as conn:
            form = forms_repo.form_by_serial(conn, serial)
            if form is None:
                raise NotFound(REASONS_ZH["unknown_serial"], code="unknown_serial")
            if forms_repo.mark_cancelled(conn, form["id"]) != 1:
                raise UserFacingError("只能作废未寄回的认证表", code=form["status"])
            journal.audit(conn, actor.operator, actor.workstation, "assist_form.cancel", "assist_form", form["id"],
                          {"serial": serial, "reason": reason[:200]})
            journal.enqueue(conn, [("assist_form", form["id"], journal.row_payload(forms_repo.form_row(conn, form["id"])))])

    @staticmethod
    def _norm_serial(serial: str) -> str:
        try:
            return _clean_typed_serial(qrsign.normalize_serial(serial))
        except ValueError:
            raise UserFacingError(REASONS_ZH["bad_serial"], code="bad_serial") from None

    # ----- tracking

    def outstanding(self, as_of: date | None = None) -> list[FormRow]:
        as_of = as_of or date.today()
        with self.db.engine.connect() as conn:
            rows = forms_repo.forms_with_status(conn, "outstanding")
        return [self._row(r, as_of) for r in rows]

    def overdue(self, as_of: date | None = None) -> list[FormRow]:
        """Outstanding forms whose deadline has passed (not back yet), for follow-up calls."""
        as_of = as_of or date.today()
        with self.db.engine.connect() as conn:
            rows = forms_repo.forms_with_status(conn, "outstanding", deadline_before=as_of)
        return [self._row(r, as_of) for r in rows]

    @staticmethod
    def _row(r: dict, as_of: date) -> FormRow:
        deadline = _d(r["deadline"])
        return FormRow(r["serial"], r["person_id"], r["name"], r["id_number"], r["phone"], r["address"], deadline,
                       _issued_on(r), r["printed_count"], r["status"], max(0, (as_of - deadline).days))

    # ----- receiving

    def read_scan(self, image_path: str | Path) -> str | None:
        """The CertDesk payload on a scanned image or PDF, or None when there is none."""
        from desktop import scan

        return (r.text if (r := scan.find_payload(scan.decode_file(image_path))) else None)

    def check(self, *, image_path: str | Path | None = None, text: str | None = None,
              expected_id_number: str | None = None) -> FormCheck:
        """Verify a returned form without recording anything (the UI shows this before 接收)."""
        from desktop.scan import ScanError

        if image_path is not None:
            try:
                text = self.read_scan(image_path)
            except ScanError as exc:
                return FormCheck(False, "scan_error" if exc.code not in REASONS_ZH else exc.code)
            if text is None:
                return FormCheck(False, "no_qr")
        text = (text or "").strip()
        qr_verified = False
        payload = None
        if text.upper().startswith(qrsign.PREFIX) and "." in text:
            v = qrsign.verify(text, self.key_provider)
            if not v.ok:
                return FormCheck(False, v.reason)
            payload, serial, qr_verified = v.payload, v.payload.serial, True
        else:
            try:
                serial = _clean_typed_serial(qrsign.normalize_serial(text))
            except ValueError:
                return FormCheck(False, "bad_serial" if text else "empty")
        with self.db.engine.connect() as conn:
            form = forms_repo.form_by_serial(conn, serial)
        if form is None:
            return FormCheck(False, "unknown_serial", serial, qr_verified=qr_verified)
        base = dict(serial=serial, person_id=form["person_id"], name=form["name"], id_number=form["id_number"],
                    deadline=_d(form["deadline"]), status=form["status"], qr_verified=qr_verified)
        if payload is not None:
            if payload.id_ref != qrsign.payload_id_reference(payload, form["id_number"], self.key_provider):
                return FormCheck(False, "id_mismatch", **base)
            if payload.deadline != base["deadline"]:
                return FormCheck(False, "deadline_mismatch", **base)
        if expected_id_number:
            try:
                expected = idnumber.normalize(expected_id_number)
            except Exception:  # noqa: BLE001 - any unreadable number is simply "not this person"
                expected = expected_id_number
            if expected != form["id_number"]:
                return FormCheck(False, "foreign_form", **base)
        if form["status"] == "received":
            return FormCheck(False, "already_received", **base)
        if form["status"] == "cancelled":
            return FormCheck(False, "cancelled", **base)
        if form["death_date"] is not None:
            return FormCheck(False, "deceased", **base)
        return FormCheck(True, "ok", flags=() if qr_verified else ("typed_serial",), **base)

    def receive(self, *, body_name: str, body_date: date, certifier: str, actor: Actor,
                image_path: str | Path | None = None, text: str | None = None, serial: str | None = None,
                today: date | None = None, expected_id_number: str | None = None,
                scan_path: str | Path | None = None, confirmed_by: Actor | None = None) -> ReceiveResult:
        """Accept a returned form: a ``remote_assist`` certification dated on the body's date.

        ``image_path`` is a scan/photo/PDF carrying the QR (it is also kept as the scan unless
        ``scan_path`` names another file); ``text`` is a QR payload read by a hand scanner or a
        typed serial (``serial`` is an alias). Never raises for a bad form: the result says why.
        A typed serial needs a supervisor: ``actor`` is one, or ``confirmed_by`` is a supervisor
        whose own login the caller has just checked (OperatorService.verify_second_officer).
        """
        today = today or date.today()
        chk = self.check(image_path=image_path, text=text if text is not None else serial,
                         expected_id_number=expected_id_number)

        def refuse(reason: str) -> ReceiveResult:
            return ReceiveResult(False, reason, chk.serial, chk.id_number, chk.name, chk.flags,
                                 deadline=chk.deadline)

        if not chk.ok:
            return refuse(chk.reason)
        confirmer = None
        if not chk.qr_verified:
            from desktop.permissions import SENIOR

            if actor.role in SENIOR:
                confirmer = actor.operator
            elif (confirmed_by is not None and confirmed_by.role in SENIOR
                  and confirmed_by.operator.lower() != actor.operator.lower()):
                confirmer = confirmed_by.operator
            else:
                return refuse("typed_needs_supervisor")
        body_name, certifier = (body_name or "").strip(), (certifier or "").strip()
        if not body_name:
            return refuse("missing_body")
        if not certifier:
            return refuse("missing_certifier")
        if body_date > today:
            return refuse("future_date")
        with self.db.engine.connect() as conn:
            form = forms_repo.form_by_serial(conn, chk.serial)
        if body_date < _issued_on(form):
            return refuse("before_issue")
        flags = list(chk.flags)
        if today > chk.deadline:
            flags.append("returned_late")
        if body_date > chk.deadline:
            flags.append("certified_after_deadline")

        kept = self._keep_scan(chk.serial, scan_path or image_path)
        evidence = {"serial": chk.serial, "body": body_name, "body_date": body_date.isoformat(),
                    "certifier": certifier, "scan": kept, "qr_verified": chk.qr_verified}
        cert_id = self._existing_certification(form["person_id"], chk.serial)
        if cert_id is None:
            try:
                rec = self.persons.record_certification(form["person_id"], body_date, METHOD, actor,
                                                        evidence=evidence, today=today)
            except UserFacingError as exc:
                return refuse(exc.code if exc.code in REASONS_ZH else "future_date")
            cert_id = rec.id
        with self.db.engine.begin() as conn:
            values = {"received_at": utcnow(), "body_name": body_name[:200], "body_date": body_date,
                      "certifier": certifier[:64], "scan_path": kept, "certification_id": cert_id}
            if forms_repo.mark_received(conn, form["id"], values) != 1:
                return refuse("already_received")
            journal.audit(conn, actor.operator, actor.workstation, "assist_form.receive", "assist_form", form["id"],
                          {"serial": chk.serial, "body_date": body_date.isoformat(), "flags": flags,
                           "certification_id": cert_id, "qr_verified": chk.qr_verified,
                           **({"confirmed_by": confirmer} if confirmer else {})})
            journal.enqueue(conn, [("assist_form", form["id"], journal.row_payload(forms_repo.form_row(conn, form["id"])))])
        with self.db.engine.connect() as conn:
            certs = [c for c in repo.certifications_of(conn, form["person_id"]) if c["id"] == cert_id]
        if certs and certs[0]["evidence"] and "certified_after_reported_death" in certs[0]["evidence"]:
            flags.append("certified_after_reported_death")
        return ReceiveResult(True, "accepted", chk.serial, chk.id_number, chk.name, tuple(flags), cert_id,
                             body_date, chk.deadline, kept, self.resumption_forecast(form["person_id"], today))

    def _existing_certification(self, person_id: str, serial: str) -> str | None:
        """A certification already recorded for this serial (a retry after an interrupted receive)."""
        with self.db.engine.connect() as conn:
            for c in forms_repo.certifications_by_method(conn, person_id, METHOD):
                try:
                    if json.loads(c["evidence"] or "{}").get("serial") == serial:
                        return c["id"]
                except ValueError:
                    continue
        return None

    @staticmethod
    def _keep_scan(serial: str, source: str | Path | None) -> str | None:
        """Copy the scan into ``data_dir()/scans/`` and return the path relative to ``data_dir()``."""
        if source is None:
            return None
        src = Path(source)
        if not src.is_file():
            return None
        folder = paths.data_dir() / "scans" / serial[len(SERIAL_PREFIX) + 1:][:4]
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{serial}{src.suffix.lower() or '.bin'}"
        n = 1
        while dest.exists():
            n += 1
            dest = folder / f"{serial}-{n}{src.suffix.lower()}"
        from desktop.vault import seal_scan

        seal_scan(src, dest)  # encrypted under the image key, 0600 (issue 16)
        return dest.relative_to(paths.data_dir()).as_posix()

    @staticmethod
    def scan_file(relative: str) -> Path:
        return paths.data_dir() / relative

    def resumption_forecast(self, person_id: str, today: date) -> tuple[ResumptionForecast, ...]:
        """What next month's payroll run will resume for this person, counting certifications to today."""
        month = Month.of(today) + 1
        latest = self.payroll.latest_run()
        if latest is not None and latest >= month:
            month = latest + 1  # next month's run is already made: the one after it resumes
        result = self.payroll.forecast_person(person_id, month, today)  # this person's ledger only
        out = []
        for item in result.resume:
            if item["person_id"] != person_id:
                continue
            out.append(ResumptionForecast(item["cohort"], COHORTS[item["cohort"]].name_zh, item["suspended_from"],
                                          item["resume_from"], tuple(item["back_pay_months"]),
                                          item["back_pay_amount"], bool(item["needs_approval"])))
        return tuple(out)
