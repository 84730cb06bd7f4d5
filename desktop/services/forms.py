"""Assist forms for remote residents (协助认证表, docs/domain.md §5): issue, batch, reprint, track;
receiving a returned form is :mod:`desktop.services.forms_receive` (mixed into :class:`FormService`).

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
  :meth:`PersonService.record_certification` and closes the form in the same transaction (the
  form's receipt, audit and outbox entries run inside it), so a power cut leaves both or neither;
  a certification left by an older version's interrupted receive is found by its serial and reused.
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

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy.exc import IntegrityError

from db import certification_queries as certq
from db import forms_repo
from db import journal
from db import repositories as repo
from db.models import new_id, utcnow
from desktop.domain import idnumber
from desktop.platform import paths
from desktop.formats import qrsign
from desktop.errors import NotFound, UserFacingError
from desktop.printing.assist_form import label_for, render_forms, render_labels
from desktop.printing.data import BureauInfo, FormData
from desktop.domain.rules import COHORTS, clock
from desktop.services.database import Database
from desktop.services.forms_receive import (FLAGS_ZH, METHOD, REASONS_ZH, SERIAL_PREFIX, TAG_LEN,  # noqa: F401
                                            FormCheck, FormReceiving, ReceiveResult, _clean_typed_serial, _d,
                                            _issued_on)
from desktop.services.persons import PersonService
from desktop.services.resumptions import ResumptionForecast, Resumptions  # noqa: F401 - part of the API
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor

TAG_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
FOLLOW_UP_DAYS = 60
INSERT_RETRIES = 3

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


# --------------------------------------------------------------------------- helpers

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


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def default_key_provider(db: Database):
    """Where this installation's form keys come from (see the module notes, issue 15 §4)."""
    from desktop.platform import runmode
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

class FormService(FormReceiving):
    """Issue and receive assist forms. Thread contract: every method opens its own connection and
    returns frozen dataclasses, so the UI may call it from its single database worker.

    Built by the composition root (:class:`desktop.services.hub.Services`) with its collaborators
    given; ``key_provider`` None means this installation's keys (:func:`default_key_provider`)."""

    def __init__(self, db: Database, key_provider: qrsign.KeyProvider | None = None, *,
                 persons: PersonService, settings: SettingsService, resumptions: Resumptions,
                 workstation_id: str | None = None):
        self.db = db
        self._workstation_id = workstation_id
        self._tag: str | None = None
        self.key_provider = key_provider or default_key_provider(db)
        self.persons = persons
        self.settings = settings
        self.resumptions = resumptions

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
                from desktop.platform.workstation import workstation_id

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
        dates = certq.passed_dates_for_persons(conn, [person_id], today).get(person_id, [])
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
            last = certq.last_passed_by_person(conn, as_of)
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

