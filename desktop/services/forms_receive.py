"""Receiving a returned assist form (协助认证表, docs/domain.md §5): verify the QR (or a typed
serial confirmed by a supervisor), then record the ``remote_assist`` certification, close the form,
and forecast the resumption — ONE transaction: the certification, its audit and outbox entries, the
form's receipt (status, body, certifier, scan) with its audit and outbox entries commit together or
not at all (tests/crash/test_one_transaction.py kills the process between them).

The issuing side (serials, printing, batches, tracking) is :mod:`desktop.services.forms`, whose
:class:`~desktop.services.forms.FormService` carries these methods (:class:`FormReceiving`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from db import certification_queries as certq
from db import forms_repo
from db import journal
from db.models import utcnow
from desktop.domain import idnumber
from desktop.platform import paths
from desktop.formats import qrsign
from desktop.errors import UserFacingError
from desktop.services.resumptions import ResumptionForecast

SERIAL_PREFIX = "AES"
TAG_LEN = 4
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




# --------------------------------------------------------------------------- DTOs

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


def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _issued_on(row: dict) -> date:
    value = row["issued_at"]
    return value.date() if hasattr(value, "date") else _d(value)


def _clean_typed_serial(serial: str) -> str:
    """A typed tagged serial with the letters a clerk confuses with digits put right (O→0, I/L→1)."""
    parts = serial.split("-")
    if len(parts) == 4 and len(parts[2]) == TAG_LEN:
        parts[2] = parts[2].translate(str.maketrans("OIL", "011"))
    return "-".join(parts)


class _AlreadyReceived(Exception):
    """Raised inside the receiving transaction: another clerk received the form meanwhile."""


class FormReceiving:
    """The receiving half of :class:`~desktop.services.forms.FormService` (``self.db``,
    ``self.key_provider``, ``self.persons`` and ``self.resumptions`` come from it)."""

    def read_scan(self, image_path: str | Path) -> str | None:
        """The CertDesk payload on a scanned image or PDF, or None when there is none."""
        from desktop.formats import scan

        return (r.text if (r := scan.find_payload(scan.decode_file(image_path))) else None)

    def check(self, *, image_path: str | Path | None = None, text: str | None = None,
              expected_id_number: str | None = None) -> FormCheck:
        """Verify a returned form without recording anything (the UI shows this before 接收)."""
        from desktop.formats.scan import ScanError

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
            from desktop.domain.permissions import SENIOR

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
        person_id = form["person_id"]
        resumptions: list = []

        def close_form(conn, cert_id: str) -> None:
            """The form's receipt, in the certification's own transaction."""
            values = {"received_at": utcnow(), "body_name": body_name[:200], "body_date": body_date,
                      "certifier": certifier[:64], "scan_path": kept, "certification_id": cert_id}
            if forms_repo.mark_received(conn, form["id"], values) != 1:
                raise _AlreadyReceived  # rolls the certification back with it
            journal.audit(conn, actor.operator, actor.workstation, "assist_form.receive", "assist_form", form["id"],
                          {"serial": chk.serial, "body_date": body_date.isoformat(), "flags": flags,
                           "certification_id": cert_id, "qr_verified": chk.qr_verified,
                           **({"confirmed_by": confirmer} if confirmer else {})})
            journal.enqueue(conn, [("assist_form", form["id"], journal.row_payload(forms_repo.form_row(conn, form["id"])))])
            resumptions.extend(self.resumptions.within(conn, person_id, today))

        # a certification an older version recorded before it was interrupted: reuse it
        cert_id = self._existing_certification(person_id, chk.serial)
        try:
            if cert_id is None:
                cert_id = self.persons.record_certification(person_id, body_date, METHOD, actor, evidence=evidence,
                                                            today=today, attach=close_form).id
            else:
                with self.db.engine.begin() as conn:
                    close_form(conn, cert_id)
        except _AlreadyReceived:
            return refuse("already_received")
        except UserFacingError as exc:
            return refuse(exc.code if exc.code in REASONS_ZH else "future_date")
        with self.db.engine.connect() as conn:
            certs = [c for c in certq.certifications_of(conn, person_id) if c["id"] == cert_id]
        if certs and certs[0]["evidence"] and "certified_after_reported_death" in certs[0]["evidence"]:
            flags.append("certified_after_reported_death")
        return ReceiveResult(True, "accepted", chk.serial, chk.id_number, chk.name, tuple(flags), cert_id,
                             body_date, chk.deadline, kept, tuple(resumptions))

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
        from desktop.platform.vault import seal_scan

        seal_scan(src, dest)  # encrypted under the image key, 0600 (issue 16)
        return dest.relative_to(paths.data_dir()).as_posix()

    @staticmethod
    def scan_file(relative: str) -> Path:
        return paths.data_dir() / relative
