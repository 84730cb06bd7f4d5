"""Roster import and results/death-report import (issue 2 §5).

Every row of the file ends in exactly one outcome: imported, updated, unchanged or rejected with
a reason in Chinese naming what is wrong. A rejected row never blocks the good ones; nothing is
silently dropped. The whole file is applied in one transaction (or, with ``dry_run``, rolled
back), together with its audit events and outbox entries.

Audit granularity: a bulk import is one business action, audited as one event (file, operator,
workstation, counts) plus one ``import_batches`` row; records it creates carry the batch (or
``updated_by``/``workstation``). Changes to existing records (which fields) and death reports
are audited per record. Outbox entries name the entity only: the sync pushes the row as it is.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from db import journal
from db import repositories as repo
from db.models import new_id, utcnow
from desktop import idnumber
from desktop.rules import COHORT_BY_NAME, COHORTS
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.tabular import CellError, clean, compact, parse_amount_fen, parse_date, read_header, read_table
from desktop.workstation import Actor

ROSTER_COLUMNS = ["姓名", "公民身份号码", "认证对象", "待遇开始日期", "最近认证日期", "联系电话", "居住地址", "居住地类型", "月待遇金额"]
ROSTER_REQUIRED = ROSTER_COLUMNS[:4]
RESULT_COLUMNS = ["公民身份号码", "姓名", "认证日期", "认证方式", "认证结果"]
DEATH_COLUMNS = ["公民身份号码", "姓名", "死亡日期", "来源"]

RESIDENCE = {"本地": "local", "异地": "remote"}
_PHONE = re.compile(r"[0-9+()/\-]+")
_DIGIT = re.compile(r"\d")
RESULT_METHODS = {"手机认证": "mobile_app", "信息比对": "data_match"}
RESULT_VALUES = {"通过": "passed", "未通过": "failed"}

ID_REASON = {
    "empty": "公民身份号码为空",
    "length": "公民身份号码应为18位",
    "format": "公民身份号码含有非法字符",
    "check_digit": "公民身份号码校验码错误",
    "birth_date": "公民身份号码中的出生日期不存在",
    "future_birth": "公民身份号码中的出生日期晚于今天",
    "region": "公民身份号码的地址码无效",
}


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)
    dry_run: bool = False
    kind: str = "roster"

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append({"line": line, "reason": reason})

    @property
    def total(self) -> int:
        return self.imported + self.updated + self.unchanged + len(self.rejected)

    def as_json(self) -> dict:
        self.rejected.sort(key=lambda r: r["line"])
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def _check_id(raw: object, today: date) -> idnumber.IdCheck:
    check = idnumber.validate(compact(raw), today)
    if not check.valid:
        raise CellError(ID_REASON.get(check.reason, "公民身份号码无效"))
    return check


def _check_name(raw: object) -> str:
    name = clean(raw).replace(" ", "")
    if not name:
        raise CellError("姓名为空")
    if len(name) > 40 or _DIGIT.search(name):
        raise CellError(f"姓名无效：{name[:20]}")
    return name


@dataclass(slots=True)
class _RosterRow:
    line: int
    id_number: str
    name: str
    cohort: str
    start: date
    last_cert: date | None
    phone: str | None
    address: str | None
    residence: str | None
    amount_fen: int | None
    birth: date
    sex: str

    def key(self):
        return (self.id_number, self.cohort)

    def person_fields(self):
        return (self.phone, self.address, self.residence)

    def content(self):
        return (self.name, self.start, self.last_cert, self.phone, self.address, self.residence, self.amount_fen)


def _parse_roster_row(values: dict, line: int, today: date) -> _RosterRow:
    name = _check_name(values.get("姓名"))
    check = _check_id(values.get("公民身份号码"), today)
    number = check.number
    cohort_name = clean(values.get("认证对象")).replace(" ", "")
    cohort = COHORT_BY_NAME.get(cohort_name) or (cohort_name if cohort_name in COHORTS else None)
    if cohort is None:
        raise CellError(f"认证对象无法识别：{cohort_name or '（空）'}")
    start = parse_date(values.get("待遇开始日期"), field="待遇开始日期")
    if start is None:
        raise CellError("待遇开始日期为空")
    if start < check.birth_date:
        raise CellError("待遇开始日期早于出生日期")
    if start.year > today.year + 1:
        raise CellError(f"待遇开始日期不合理：{start.isoformat()}")
    last = parse_date(values.get("最近认证日期"), field="最近认证日期")
    if last is not None:
        if last > today:
            raise CellError(f"最近认证日期晚于今天：{last.isoformat()}")
        if last < check.birth_date:
            raise CellError("最近认证日期早于出生日期")
    phone = compact(values.get("联系电话")) or None
    if phone and not phone.isdigit() and not _PHONE.fullmatch(phone):
        raise CellError(f"联系电话无效：{phone[:20]}")
    address = clean(values.get("居住地址")) or None
    res_text = compact(values.get("居住地类型"))
    residence = None
    if res_text:
        residence = RESIDENCE.get(res_text)
        if residence is None:
            raise CellError(f"居住地类型应为“本地”或“异地”：{res_text[:10]}")
    amount = parse_amount_fen(values.get("月待遇金额"), field="月待遇金额")
    return _RosterRow(line, number, name, cohort, start, last, phone, (address or "")[:200] or None,
                      residence, amount, check.birth_date, check.sex)


class ImportService:
    def __init__(self, db: Database):
        self.db = db

    # --- roster --------------------------------------------------------------------------

    def import_roster(self, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None) -> ImportReport:
        require(self.db, actor, "roster.import")
        today = today or date.today()
        report = ImportReport(dry_run=dry_run, kind="roster")
        parsed: list[_RosterRow] = []
        seen: dict[tuple, _RosterRow] = {}
        names: dict[str, tuple[str, int]] = {}
        for row in read_table(path, ROSTER_REQUIRED, ROSTER_COLUMNS[4:]):
            try:
                r = _parse_roster_row(row.values, row.line, today)
            except CellError as exc:
                report.reject(row.line, str(exc))
                continue
            prior = seen.get(r.key())
            if prior is not None:
                if prior.content() == r.content():
                    report.reject(r.line, f"与第{prior.line}行重复")
                else:
                    report.reject(r.line, f"与第{prior.line}行的身份号码和认证对象相同但内容不同，请核对")
                continue
            known = names.get(r.id_number)
            if known and known[0] != r.name:
                report.reject(r.line, f"姓名与身份号码不符：同一身份号码在第{known[1]}行的姓名不同")
                continue
            if known:
                diff = [label for label, a, b in zip(("联系电话", "居住地址", "居住地类型"), known[2], r.person_fields()) if a and b and a != b]
                if diff:
                    report.reject(r.line, f"与第{known[1]}行是同一人，但{'、'.join(diff)}不一致，请核对")
                    continue
            seen[r.key()] = r
            names.setdefault(r.id_number, (r.name, r.line, r.person_fields()))
            parsed.append(r)

        batch_id, now = new_id(), utcnow()
        with self._unit_of_work(dry_run) as conn:
            self._apply_roster(conn, parsed, report, actor, batch_id, now)
            self._finish_batch(conn, batch_id, "roster", path, report, actor, now)
        return report

    def _apply_roster(self, conn, rows: list[_RosterRow], report: ImportReport, actor: Actor, batch_id: str, now) -> None:
        existing_persons = repo.persons_by_numbers(conn, sorted({r.id_number for r in rows}))
        existing_ents = repo.entitlements_for_persons(conn, [p["id"] for p in existing_persons.values()])
        cert_dates = repo.certification_dates_for_persons(conn, [p["id"] for p in existing_persons.values()])

        new_persons, person_updates, new_ents, ent_updates, new_certs = [], [], [], [], []
        audit, outbox = [], []
        person_state: dict[str, dict] = {}  # id_number -> current person row (incl. new ones)
        created: set[str] = set()  # ids of the persons this file creates
        for number, p in existing_persons.items():
            person_state[number] = p

        for r in rows:
            person = person_state.get(r.id_number)
            changed = False
            if person is not None and person["name"] != r.name:
                report.reject(r.line, "姓名与身份号码不符：与系统中该身份号码登记的姓名不同")
                continue
            if person is None:
                person = {
                    "id": new_id(), "id_number": r.id_number, "name": r.name, "sex": r.sex,
                    "birth_date": r.birth, "phone": r.phone, "address": r.address,
                    "residence": r.residence or "local", "death_date": None, "death_source": None,
                    "created_at": now, "updated_at": now, "updated_by": actor.operator,
                    "workstation": actor.workstation,
                }
                person_state[r.id_number] = person
                new_persons.append(person)
                created.add(person["id"])
                outbox.append(("person", person["id"], None))
                is_new_person = True
            else:
                is_new_person = person["id"] in created
                upd = {
                    "phone": r.phone or person["phone"],
                    "address": r.address or person["address"],
                    "residence": r.residence or person["residence"],
                }
                if any(upd[k] != person[k] for k in upd):
                    fields = sorted(k for k in upd if upd[k] != person[k])
                    person.update(upd, updated_at=now, updated_by=actor.operator, workstation=actor.workstation)
                    if not is_new_person:
                        person_updates.append({"pid": person["id"], **upd, "updated_at": now,
                                               "updated_by": actor.operator, "workstation": actor.workstation})
                    audit.append(("person.update", "person", person["id"], {"fields": fields}))
                    outbox.append(("person", person["id"], None))
                    changed = True

            ent = existing_ents.get((person["id"], r.cohort))
            if ent is None:
                ent = {
                    "id": new_id(), "person_id": person["id"], "cohort": r.cohort, "start_date": r.start,
                    "monthly_amount_fen": r.amount_fen, "status": "active", "status_since": None,
                    "created_at": now, "updated_at": now,
                }
                existing_ents[(person["id"], r.cohort)] = ent
                new_ents.append(ent)
                outbox.append(("entitlement", ent["id"], None))
                outcome = "imported"
            else:
                amount = r.amount_fen if r.amount_fen is not None else ent["monthly_amount_fen"]
                if ent["start_date"] != r.start or ent["monthly_amount_fen"] != amount:
                    fields = [k for k, v in (("start_date", r.start), ("monthly_amount_fen", amount)) if ent[k] != v]
                    ent.update(start_date=r.start, monthly_amount_fen=amount, updated_at=now)
                    ent_updates.append({"eid": ent["id"], "start_date": r.start, "monthly_amount_fen": amount,
                                        "updated_at": now})
                    audit.append(("entitlement.update", "entitlement", ent["id"], {"fields": fields}))
                    outbox.append(("entitlement", ent["id"], None))
                    changed = True
                outcome = "updated" if changed else "unchanged"

            if r.last_cert is not None and (person["id"], r.last_cert) not in cert_dates:
                cert = {
                    "id": new_id(), "person_id": person["id"], "cert_date": r.last_cert, "method": "legacy",
                    "result": "passed", "evidence": f'{{"source":"roster","line":{r.line}}}',
                    "operator": actor.operator, "approver": None, "workstation": actor.workstation,
                    "batch_id": batch_id, "created_at": now,
                }
                cert_dates.add((person["id"], r.last_cert))
                new_certs.append(cert)
                outbox.append(("certification", cert["id"], None))
                if outcome == "unchanged":
                    outcome = "updated"

            if outcome == "imported":
                report.imported += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1

        repo.insert_persons(conn, new_persons)
        repo.update_persons(conn, person_updates)
        repo.insert_entitlements(conn, new_ents)
        repo.update_entitlements(conn, ent_updates)
        repo.insert_certifications(conn, new_certs)
        journal.audit_many(conn, actor.operator, actor.workstation, audit)
        journal.enqueue(conn, outbox)

    # --- results and death reports --------------------------------------------------------

    def import_results(self, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None) -> ImportReport:
        """Certification results (手机认证 / 信息比对) or death reports; the header tells which."""
        require(self.db, actor, "results.import")
        today = today or date.today()
        header_probe = read_header(Path(path))
        if "死亡日期" in header_probe:
            return self._import_deaths(path, actor, dry_run=dry_run, today=today)
        report = ImportReport(dry_run=dry_run, kind="results")
        rows = []
        seen: dict[tuple, int] = {}
        for row in read_table(path, RESULT_COLUMNS):
            v = row.values
            try:
                number = _check_id(v.get("公民身份号码"), today).number
                name = _check_name(v.get("姓名"))
                d = parse_date(v.get("认证日期"), field="认证日期")
                if d is None:
                    raise CellError("认证日期为空")
                if d > today:
                    raise CellError(f"认证日期晚于今天：{d.isoformat()}")
                method_text = compact(v.get("认证方式"))
                method = RESULT_METHODS.get(method_text)
                if method is None:
                    raise CellError(f"认证方式应为“手机认证”或“信息比对”：{method_text[:10] or '（空）'}")
                result_text = compact(v.get("认证结果"))
                result = RESULT_VALUES.get(result_text)
                if result is None:
                    raise CellError(f"认证结果应为“通过”或“未通过”：{result_text[:10] or '（空）'}")
            except CellError as exc:
                report.reject(row.line, str(exc))
                continue
            key = (number, d, method, result)
            if key in seen:
                report.reject(row.line, f"与第{seen[key]}行重复")
                continue
            seen[key] = row.line
            rows.append((row.line, number, name, d, method, result))

        batch_id, now = new_id(), utcnow()
        with self._unit_of_work(dry_run) as conn:
            persons = repo.persons_by_numbers(conn, sorted({r[1] for r in rows}))
            existing = repo.certification_keys_for_persons(conn, [p["id"] for p in persons.values()])
            new_certs, audit, outbox = [], [], []
            for line, number, name, d, method, result in rows:
                person = persons.get(number)
                if person is None:
                    report.reject(line, "系统中没有该身份号码的待遇领取人员")
                    continue
                if person["name"] != name:
                    report.reject(line, "姓名与身份号码不符")
                    continue
                key = (person["id"], d, method, result)
                if key in existing:
                    report.unchanged += 1
                    continue
                existing.add(key)
                cert = {
                    "id": new_id(), "person_id": person["id"], "cert_date": d, "method": method,
                    "result": result, "evidence": json.dumps({"source": Path(path).name, "line": line}, ensure_ascii=False),
                    "operator": actor.operator, "approver": None, "workstation": actor.workstation,
                    "batch_id": batch_id, "created_at": now,
                }
                new_certs.append(cert)
                outbox.append(("certification", cert["id"], None))
                report.imported += 1
            repo.insert_certifications(conn, new_certs)
            journal.audit_many(conn, actor.operator, actor.workstation, audit)
            journal.enqueue(conn, outbox)
            self._finish_batch(conn, batch_id, "results", path, report, actor, now)
        return report

    def _import_deaths(self, path: Path, actor: Actor, *, dry_run: bool, today: date) -> ImportReport:
        report = ImportReport(dry_run=dry_run, kind="deaths")
        rows, seen = [], {}
        for row in read_table(path, DEATH_COLUMNS[:3], DEATH_COLUMNS[3:]):
            v = row.values
            try:
                number = _check_id(v.get("公民身份号码"), today).number
                name = _check_name(v.get("姓名"))
                d = parse_date(v.get("死亡日期"), field="死亡日期")
                if d is None:
                    raise CellError("死亡日期为空")
                if d > today:
                    raise CellError(f"死亡日期晚于今天：{d.isoformat()}")
                source = clean(v.get("来源"))[:100] or None
            except CellError as exc:
                report.reject(row.line, str(exc))
                continue
            if number in seen:
                report.reject(row.line, f"与第{seen[number]}行重复（同一人的死亡报告）")
                continue
            seen[number] = row.line
            rows.append((row.line, number, name, d, source))

        batch_id, now = new_id(), utcnow()
        with self._unit_of_work(dry_run) as conn:
            persons = repo.persons_by_numbers(conn, sorted({r[1] for r in rows}))
            audit, outbox = [], []
            for line, number, name, d, source in rows:
                person = persons.get(number)
                if person is None:
                    report.reject(line, "系统中没有该身份号码的待遇领取人员")
                    continue
                if person["name"] != name:
                    report.reject(line, "姓名与身份号码不符")
                    continue
                if person["birth_date"] and d < person["birth_date"]:
                    report.reject(line, "死亡日期早于出生日期")
                    continue
                if person["death_date"] == d:
                    report.unchanged += 1
                    continue
                was = person["death_date"]
                repo.set_death(conn, person["id"], d, source, now, actor.operator)
                person.update(death_date=d, death_source=source, updated_at=now)
                audit.append(("person.death_reported", "person", person["id"],
                              {"death_date": d.isoformat(), "source": source, "previous": was.isoformat() if was else None}))
                outbox.append(("person", person["id"], None))
                if was is None:
                    report.imported += 1
                else:
                    report.updated += 1
            journal.audit_many(conn, actor.operator, actor.workstation, audit)
            journal.enqueue(conn, outbox)
            self._finish_batch(conn, batch_id, "deaths", path, report, actor, now)
        return report

    @contextmanager
    def _unit_of_work(self, dry_run: bool):
        """One transaction for a whole file: committed, or rolled back for a dry run or an error."""
        with self.db.engine.connect() as conn:
            tx = conn.begin()
            try:
                yield conn
            except BaseException:
                tx.rollback()
                raise
            if dry_run:
                tx.rollback()
            else:
                tx.commit()

    def _finish_batch(self, conn, batch_id, kind, path, report, actor, now) -> None:
        summary = {**report.as_json(), "rejected": len(report.rejected)}
        repo.insert_batch(conn, {"id": batch_id, "kind": kind, "filename": Path(path).name,
                                 "summary": json.dumps(summary), "operator": actor.operator,
                                 "workstation": actor.workstation, "created_at": now})
        journal.audit(conn, actor.operator, actor.workstation, f"{kind}.import", "import_batch", batch_id,
                      {"file": Path(path).name, **summary})
