"""The counter use case (现场认证), Qt-free: card → person → certification → receipt → statistics.

The window drives it step by step; every step is a plain call that returns frozen data:

* :meth:`CounterService.lookup` — the person behind a card (or "not a beneficiary here"), card
  warnings, and what certifying today would resume (months back-paid).
* :meth:`CounterService.note_not_on_roster` — the clerk notes a visitor who is not on the roster.
* :meth:`CounterService.certify_by_face` — method ``counter`` with the face evidence (distance,
  liveness, frames, the captured photo kept in the record, never logged).
* :meth:`CounterService.certify_by_attestation` — method ``staff_attestation``; needs the second
  officer already verified by :meth:`OperatorService.verify_second_officer`, and a reason.
* :meth:`CounterService.record_failure` — a failed attempt with a reason code (today's panel).
* :meth:`CounterService.today` — certifications done, average time per resident, failures and why.

A helper (代办) is recorded in the certification's evidence (full number, needed for the record) and
appears masked everywhere else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from db import journal
from db import operators_repo as orepo
from db.models import utcnow
from desktop.domain import idnumber
from desktop.counter.facts import CardFacts, FaceOutcome, Helper  # noqa: F401 - part of this API
from desktop.errors import NotFound, UserFacingError
from desktop.domain.labels import FAILURE_REASON_ZH
from desktop.domain.months import Month
from desktop.printing.data import BureauInfo, EntitlementLine, ReceiptData, Resumption
from desktop.services.database import Database
from desktop.services.evidence import EvidenceService
from desktop.services.persons import CertificationRecord, PersonService, PersonView
from desktop.services.resumptions import ResumptionForecast, Resumptions
from desktop.services.settings import SettingsService
from desktop.services.station import StationSettings
from desktop.platform.workstation import Actor

RELATIONSHIPS = ("配偶", "子女", "儿媳/女婿", "孙子女", "兄弟姐妹", "其他亲属", "村（居）委会工作人员", "其他")

FAILURE_ZH = FAILURE_REASON_ZH  # one table of failure names (desktop.domain.labels)

ATTESTATION_REASONS = {
    "face_failed": "人脸识别多次未通过",
    "blind_or_injured": "视力障碍或面部受伤",
    "old_photo": "证件照片年代久远",
    "no_photo": "证件无可用照片（手工录入）",
    "camera_fault": "摄像头故障",
    "other": "其他原因",
}


@dataclass(frozen=True, slots=True)
class Lookup:
    id_number: str
    masked_id: str
    found: bool
    person: PersonView | None
    warnings: tuple[str, ...] = ()  # card warnings and card/roster differences (Chinese)
    resumptions: tuple[ResumptionForecast, ...] = ()
    all_terminated: bool = False

    @property
    def suspended(self) -> bool:
        return bool(self.resumptions)

    def __repr__(self) -> str:
        return f"Lookup({self.masked_id}, found={self.found})"


@dataclass(frozen=True, slots=True)
class CounterResult:
    certification: CertificationRecord
    person: PersonView  # after the certification (new deadlines)
    receipt: ReceiptData
    bureau: BureauInfo
    resumptions: tuple[ResumptionForecast, ...]


@dataclass(frozen=True, slots=True)
class TodayStats:
    day: date
    certified: int
    by_method: dict
    failed: int  # failed attempts (a resident may fail, then be attested)
    failures: tuple[tuple[str, str, int], ...]  # (code, 中文, count), most frequent first
    average_seconds: float | None
    not_on_roster: int
    helpers: int


def _stopped(view: PersonView) -> set[str]:
    """The entitlements whose payment a run stopped and no certification has covered since."""
    return {e.id for e in view.entitlements if e.status == "suspended" and e.payment_suspended_since}


class CounterService:
    """Built by the composition root (:class:`desktop.services.hub.Services`) with every
    collaborator given: no fallback constructors here."""

    def __init__(self, db: Database, persons: PersonService, settings: SettingsService, evidence: EvidenceService,
                 resumptions: Resumptions, *, station: StationSettings | None):
        self.db = db
        self.station = station  # this counter's window number (None: a headless command, no window)
        self.persons = persons
        self.settings = settings
        self.evidence = evidence
        self.resumptions = resumptions

    # --- 1. who is this? --------------------------------------------------------------------------

    def lookup(self, id_number: str, as_of: date, *, card_name: str = "", card_warnings: tuple[str, ...] = ()) -> Lookup:
        number = idnumber.normalize(id_number)
        try:
            view = self.persons.show(number, as_of)
        except NotFound:
            return Lookup(number, idnumber.mask(number), False, None, tuple(card_warnings))
        warnings = list(card_warnings)
        if card_name and view.name and card_name.replace(" ", "") != view.name.replace(" ", ""):
            warnings.append(f"证件姓名“{card_name}”与系统登记姓名“{view.name}”不一致，请核实")
        all_terminated = bool(view.entitlements) and all(e.status == "terminated" for e in view.entitlements)
        if view.death_date is not None:
            warnings.append(f"系统记录该人员已于{view.death_date.isoformat()}死亡，请核实身份（如属误报可撤销）")
        resumes = self.resumptions.if_certified(view.id, as_of, entitlements=set() if all_terminated else _stopped(view))
        return Lookup(number, idnumber.mask(number), True, view, tuple(warnings), resumes, all_terminated)

    def note_not_on_roster(self, id_number: str, actor: Actor, as_of: date, *, note: str = "",
                           seconds: float | None = None) -> None:
        """Someone who is not a beneficiary here came to the window: one audit event (masked)."""
        with self.db.engine.begin() as conn:
            journal.audit(conn, actor.operator, actor.workstation, "counter.not_on_roster", "person", None,
                          {"id": idnumber.mask(idnumber.normalize(id_number)), "note": note[:200]})
            self._outcome(conn, actor, as_of, "not_on_roster", seconds=seconds, reason="not_on_roster")

    # --- 2. certify ---------------------------------------------------------------------------------

    def certify_by_face(self, person_id: str, as_of: date, actor: Actor, face: FaceOutcome, *,
                        card: CardFacts, helper: Helper | None = None, seconds: float | None = None,
                        attempts: int = 1, failures: tuple[str, ...] = ()) -> CounterResult:
        if not face.liveness_passed:
            raise UserFacingError("活体检测未通过，不能记录现场认证", code="liveness_failed")
        # face_attempts / face_passed / face_failures feed the dashboards (first-attempt pass rate)
        evidence = {"face": face.evidence(), "card": card.evidence(), "face_attempts": attempts,
                    "face_passed": True, "face_failures": list(failures)}
        attach = None
        if face.photo_png:
            def attach(conn, certification_id):  # same transaction as the certification
                self.evidence.store(person_id, "captured", face.photo_png, actor, certification_id=certification_id,
                                    today=as_of, conn=conn)
        return self._certify(person_id, as_of, actor, "counter", evidence, helper=helper, seconds=seconds,
                             attach=attach)

    def certify_by_attestation(self, person_id: str, as_of: date, actor: Actor, approver, reason: str, *,
                               note: str = "", card: CardFacts, helper: Helper | None = None,
                               seconds: float | None = None, face_attempts: int = 0,
                               face_failures: tuple[str, ...] = ()) -> CounterResult:
        """``approver``: the OperatorView returned by ``OperatorService.verify_second_officer``."""
        if approver is None or not approver.can("supervisor"):
            raise UserFacingError("人工核验需要审核主管审批", code="needs_approver")
        if approver.username.lower() == actor.operator.lower():
            raise UserFacingError("审批人不能是经办人本人", code="same_officer")
        if reason not in ATTESTATION_REASONS:
            raise UserFacingError("请选择人工核验的原因", code="needs_reason")
        if reason == "other" and not note.strip():
            raise UserFacingError("选择“其他原因”时请填写说明", code="needs_reason")
        evidence = {"attestation": {"reason": reason, "reason_zh": ATTESTATION_REASONS[reason], "note": note.strip(),
                                    "approver": approver.username, "approver_role": approver.role,
                                    "face_attempts": face_attempts},
                    "card": card.evidence(), "face_attempts": face_attempts, "face_passed": False,
                    "face_failures": list(face_failures)}
        return self._certify(person_id, as_of, actor, "staff_attestation", evidence, helper=helper, seconds=seconds,
                             approver=approver.username)

    def _certify(self, person_id, as_of, actor, method, evidence, *, helper, seconds, approver=None,
                 attach=None) -> CounterResult:
        before = self.persons.show_by_id(person_id, as_of)
        if before.entitlements and all(e.status == "terminated" for e in before.entitlements):
            raise UserFacingError("该人员的待遇均已终止，不能办理资格认证；如属误报请走撤销终止流程",
                                  code="terminated")
        if helper is not None:
            if idnumber.normalize(helper.id_number) == before.id_number:
                raise UserFacingError("代办人不能是本人", code="helper_is_resident")
            evidence["helper"] = helper.evidence()
        if seconds is not None:
            evidence["seconds"] = round(seconds, 2)
        resumptions: list = []
        # what THIS certification resumes: the entitlements still stopped before it (one whose
        # payment a certification already covered resumes anyway, and is not this receipt's news)
        stopped = _stopped(before)

        def in_transaction(conn, certification_id):
            """Evidence, the counter's audit and outcome, and the resumption the ledger now
            forecasts: one transaction with the certification (all or nothing on a power cut)."""
            if attach is not None:
                attach(conn, certification_id)
            if stopped:
                resumptions.extend(self.resumptions.within(conn, person_id, as_of, stopped))
            detail = {"method": method, "certification": certification_id}
            if helper is not None:
                detail["helper"] = helper.masked_id
                detail["relationship"] = helper.relationship
            if resumptions:
                detail["resumes"] = [r.resume_from for r in resumptions]
            journal.audit(conn, actor.operator, actor.workstation, "counter.certified", "person", person_id, detail)
            self._outcome(conn, actor, as_of, "certified", seconds=seconds, method=method, helper=helper is not None)

        record = self.persons.record_certification(person_id, as_of, method, actor, evidence=evidence,
                                                   approver=approver, today=as_of, attach=in_transaction)
        after = self.persons.show_by_id(person_id, as_of)
        done = tuple(resumptions)
        return CounterResult(record, after, self.receipt(after, record, actor, as_of, done, helper), self.bureau(),
                             done)

    def record_failure(self, actor: Actor, as_of: date, reason: str, *, person_id: str | None = None,
                       seconds: float | None = None, detail: dict | None = None) -> None:
        """A failed attempt (face check, reader, approval refused…), for today's panel."""
        with self.db.engine.begin() as conn:
            d = {k: v for k, v in (detail or {}).items() if k in ("distance", "attempt", "step", "method")}
            journal.audit(conn, actor.operator, actor.workstation, "counter.failure", "person", person_id,
                          {"reason": reason, **d})
            self._outcome(conn, actor, as_of, "failed", seconds=seconds, reason=reason)

    def _outcome(self, conn, actor, as_of, outcome, *, seconds=None, reason=None, method=None, helper=False) -> None:
        journal.audit(conn, actor.operator, actor.workstation, "counter.outcome", None, None,
                      {"day": as_of.isoformat(), "outcome": outcome, "reason": reason, "method": method,
                       "seconds": None if seconds is None else round(seconds, 2), "helper": helper})

    # --- 3. the receipt -----------------------------------------------------------------------------

    def bureau(self) -> BureauInfo:
        s = self.settings
        return BureauInfo(name=s.get("bureau_name"), phone=s.get("bureau_phone"),
                          return_address=s.get("bureau_address"), return_postcode=s.get("bureau_postcode"))

    def receipt(self, after: PersonView, record: CertificationRecord, actor: Actor, as_of: date,
                resumptions: tuple[ResumptionForecast, ...] = (), helper: Helper | None = None) -> ReceiptData:
        covers = tuple(EntitlementLine(e.cohort_zh, e.deadline) for e in after.entitlements
                       if e.id in record.covers and e.status != "terminated")
        res = tuple(
            Resumption(r.cohort_zh, (Month.parse(r.resume_from) if r.resume_from else Month.of(as_of) + 1).first_day(),
                       tuple(Month.parse(m).first_day() for m in r.back_pay_months),
                       None if not r.back_pay_amount else f"{r.back_pay_amount:,.2f}")  # the receipt adds 元
            for r in resumptions
        )
        notes = []
        if helper is not None:
            notes.append(f"代办人：{helper.name}（{helper.relationship}，{helper.masked_id}）")
        if any(r.needs_approval for r in resumptions):
            notes.append("暂停超过12个月的待遇恢复发放需经主管审核。")
        return ReceiptData(
            receipt_no=f"{as_of:%Y%m%d}-{record.id[:8].upper()}", name=after.name, id_number=after.id_number,
            certified_on=record.cert_date, method=record.method, covers=covers, resumptions=res,
            clerk=self.clerk_name(actor.operator), workstation=actor.workstation, window=self.window_label(),
            printed_on=as_of, note="；".join(notes),
        )

    def clerk_name(self, username: str) -> str:
        """The name a resident knows the clerk by (张敏), not the login (zhangmin)."""
        with self.db.engine.connect() as conn:
            row = orepo.by_username(conn, username)
        return (row or {}).get("display_name") or username

    def window_label(self) -> str:
        """``3号窗口`` from the station setting ``window_no`` ("" when it is not set)."""
        value = (self.station.get("window_no") if self.station is not None else "").strip()
        if not value:
            return ""
        return value if value.endswith("窗口") else f"{value}号窗口"

    # --- 4. today's panel ---------------------------------------------------------------------------

    def today(self, as_of: date, workstation: str | None = None) -> TodayStats:
        since = utcnow() - timedelta(days=2)
        with self.db.engine.connect() as conn:
            rows = orepo.audit_since(conn, ("counter.outcome",), since, workstation)
        import json

        items = []
        for r in rows:
            try:
                d = json.loads(r["detail"] or "{}")
            except ValueError:
                continue
            if d.get("day") == as_of.isoformat():
                items.append(d)
        done = [d for d in items if d["outcome"] == "certified"]
        failed = [d for d in items if d["outcome"] == "failed"]
        secs = [d["seconds"] for d in done if d.get("seconds") is not None]
        reasons = Counter(d.get("reason") or "other" for d in failed)
        return TodayStats(
            as_of, len(done), dict(Counter(d.get("method") for d in done)), len(failed),
            tuple((code, FAILURE_ZH.get(code, code), n) for code, n in reasons.most_common()),
            (sum(secs) / len(secs)) if secs else None,
            sum(1 for d in items if d["outcome"] == "not_on_roster"),
            sum(1 for d in done if d.get("helper")),
        )


def demo_card_specs(services, n: int = 12, as_of: date | None = None) -> list:
    """Demo/test only: simulated-reader cards for people on the roster (suspended ones first, so
    the demo shows a resumption), then the built-in sample cards (not on the roster)."""
    from desktop.devices.idcard import samples
    from desktop.platform.runmode import require_simulation_allowed

    require_simulation_allowed("demo cards")
    from db import repositories as repo

    with services.db.engine.connect() as conn:
        suspended = repo.person_ids_with_status(conn, "suspended")[: max(1, n // 4)]
        others = [num for num, _ in repo.sample_persons(conn, n * 2)]
    views = [services.persons.show_by_id(pid, as_of) for pid in suspended]
    for num in others:
        if len(views) >= n:
            break
        v = services.persons.show(num, as_of)
        if v.death_date is None and any(e.status != "terminated" for e in v.entitlements) and v.id not in {x.id for x in views}:
            views.append(v)
    cards = []
    for v in views:
        birth = v.birth_date or date(1950, 1, 1)
        sex = "1" if v.sex in ("M", "男") else "2"
        cards.append(samples.CardSpec(samples.RESIDENT, v.name, sex, "01", birth.strftime("%Y%m%d"),
                                      v.address or "内蒙古自治区兴安盟阿尔山市", v.id_number, "阿尔山市公安局",
                                      "20160101", "长期"))
    return cards + samples.demo_cards()[:2]


def training_cards(services, as_of: date | None = None) -> list[tuple[str, object]]:
    """Demo/training only: the sample cards a trainee puts on the simulated reader, each with a
    label saying what it exercises — people on the roster (one whose payment is suspended first),
    the same person's card past its validity, a resident who is not on this roster, a Mongolian
    resident, a Hong Kong/Macao/Taiwan residence permit and both foreign permanent-resident cards."""
    from dataclasses import replace

    from desktop.devices.idcard import samples
    from desktop.devices.idcard.model import FOREIGN_2017, FOREIGN_2023, HK_MO_TW
    from desktop.platform.runmode import require_simulation_allowed

    require_simulation_allowed("training cards")
    on_roster = demo_card_specs(services, 6, as_of)[:-2]  # without the two built-in samples
    out: list[tuple[str, object]] = []
    for i, spec in enumerate(on_roster):
        try:
            view = services.persons.show(spec.id_number, as_of)
            status = "、".join(dict.fromkeys(e.status_zh for e in view.entitlements)) or "在册"
        except Exception:  # noqa: BLE001 - a label only
            status = "在册"
        out.append((f"{spec.name}（在册：{status}）", spec))
    if on_roster:
        first = on_roster[-1]
        out.append((f"{first.name}（证件已过期）", replace(first, valid_from="20060101", valid_to="20160101")))
    kinds = {HK_MO_TW: "港澳台居民居住证", FOREIGN_2017: "外国人永久居留身份证（2017版）",
             FOREIGN_2023: "外国人永久居留身份证（2023版）"}
    for spec in samples.demo_cards():
        if spec.card_type in kinds:
            out.append((f"{spec.name}（{kinds[spec.card_type]}，非本地人员）", spec))
        else:
            out.append((f"{spec.name}（非本地待遇人员）", spec))
    return out
