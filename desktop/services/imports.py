"""Roster import and results/death-report import (issue 2 §5).

Every row of the file ends in exactly one outcome: imported, updated, unchanged or rejected with
a reason in Chinese naming what is wrong. A rejected row never blocks the good ones; nothing is
silently dropped. The whole file is applied in one transaction (or, with ``dry_run``, rolled
back), together with its audit events and outbox entries.

Audit granularity: a bulk import is one business action, audited as one event (file, operator,
workstation, counts) plus one ``import_batches`` row; records it creates carry the batch (or
``updated_by``/``workstation``). Changes to existing records (which fields, old and new values)
and death reports are audited per record. Outbox entries name the entity only: the sync pushes
the row as it is.

Some rows are imported with a warning on their line (``report.warnings``): a second line of the
same person with other contact details (the later line wins), a death date before the start of
a benefit. Red flags open a case for a supervisor (``sync_conflicts``, one per fact): a passed
certification dated after the recorded death (refused: it is not proof of life), a death
before a benefit's start. A change of the monthly amount is kept as history
(``entitlement_amounts``, from 待遇调整生效月份 or the import month).
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from db import journal
from db import repositories as repo
from db.engine import bulk_write
from db.ids import new_ids
from db.models import new_id, utcnow
from db.sync import CONFLICT_NS
from desktop.errors import UserFacingError
from desktop.formats.roster_rows import (  # noqa: F401  (re-exported)
    ID_REASON,
    RESIDENCE,
    ROSTER_COLUMNS,
    ROSTER_OPTIONAL,
    ROSTER_REQUIRED,
    CERT_COLS,
    ENT_COLS,
    PERSON_COLS,
    cert_record,
    ent_record,
    check_id,
    check_name,
    iter_roster_chunks,
    parse_roster_row,
    roster_worker,
    same_name,
)
from desktop.services.database import Database
from desktop.domain.rules import COHORTS
from desktop.services.guard import require
from desktop.formats.import_mapping import read_header, read_table
from desktop.services.death_lists import (  # noqa: F401  (DEATH_COLUMNS re-exported)
    DATE_FIELDS,
    DEATH_COLUMNS,
    DEATH_OPTIONAL,
    DEATH_REQUIRED,
    FLAG_DEREG_DATE,
    MARKERS,
    REVIEW_REASON,
    parse_death_row,
)
from desktop.formats.tabular import CellError, compact, parse_date
from desktop.platform.workstation import Actor

RESULT_COLUMNS = ["公民身份号码", "姓名", "认证日期", "认证方式", "认证结果"]

RESULT_METHODS = {"手机认证": "mobile_app", "信息比对": "data_match"}
RESULT_VALUES = {"通过": "passed", "未通过": "failed"}

CERTIFIED_AFTER_DEATH = "认证日期晚于已登记的死亡日期（疑似冒领），已转主管核查"
DEATH_BEFORE_START = "死亡日期早于待遇开始日期"


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)
    dry_run: bool = False
    kind: str = "roster"
    # rows imported all the same, with something to check: {"line", "reason"}
    warnings: list[dict] = field(default_factory=list)
    # roster: entitlements of this file whose person has no accepted certification at all (the
    # clock starts from the benefit's start date: the first payroll run would suspend them)
    no_last_certified: int = 0
    # death lists: people deregistered for another reason than death (迁出, 出国 …), nothing
    # written for them but a case for a supervisor: {"line", "reason"}
    review: list[dict] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append({"line": line, "reason": reason})

    def warn(self, line: int, reason: str) -> None:
        self.warnings.append({"line": line, "reason": reason})

    @property
    def total(self) -> int:
        return self.imported + self.updated + self.unchanged + len(self.rejected) + len(self.review)

    def as_json(self) -> dict:
        self.rejected.sort(key=lambda r: r["line"])
        self.warnings.sort(key=lambda r: r["line"])
        out = {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }
        if self.kind == "roster":
            out["no_last_certified"] = self.no_last_certified
        if self.kind == "deaths":
            self.review.sort(key=lambda r: r["line"])
            out["review"] = self.review
        return out

    def notes_zh(self) -> list[str]:
        """Whole-file remarks for a person reading the result (the command line, the UI)."""
        notes = []
        if self.kind == "roster" and self.no_last_certified:
            notes.append(f"{self.no_last_certified} 条待遇没有最近认证日期：首次发放计算将按待遇开始日期起算，"
                         "暂停前需主管确认")
        if self.review:
            notes.append(f"{len(self.review)} 人的注销原因不是死亡，未登记死亡，已转主管核查")
        return notes


def _case(kind: str, key: str, person_id: str, detail: dict, actor: Actor, now) -> dict:
    """A ``sync_conflicts`` case for a supervisor; its id is derived from what it is about, so
    importing the same file again (here or on another workstation) opens no second case."""
    return {"id": str(uuid.uuid5(CONFLICT_NS, f"{kind}:{key}")), "kind": kind, "entity": "person",
            "entity_id": person_id, "person_id": person_id,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True), "workstation": actor.workstation,
            "status": "open", "resolved_by": None, "resolved_at": None, "created_at": now, "updated_at": now}


def _open_cases(conn, cases: list[dict], audit: list, outbox: list) -> None:
    for cid in repo.open_cases_once(conn, cases):
        case = next(c for c in cases if c["id"] == cid)
        audit.append(("case.opened", "sync_conflict", cid, {"kind": case["kind"], "person_id": case["person_id"]}))
        outbox.append(("sync_conflict", cid, None))


_check_id = check_id
_check_name = check_name
_parse_roster_row = parse_roster_row

# A file at least this large (bytes; ≈ 20,000 roster rows) is read and validated in a second
# process, in chunks of PARALLEL_CHUNK rows (the first one small, so writing starts early),
# while this one writes. Chunks are small enough that the writer never waits long for the next.
PARALLEL_MIN_BYTES = 2_000_000
PARALLEL_CHUNK = 2_500


class _RosterState:
    """What one roster import has seen and created so far (carried across chunks)."""

    def __init__(self, actor: Actor, batch_id: str, now, today: date, source: str):
        self.actor, self.batch_id, self.now = actor, batch_id, now
        self.month = f"{today.year:04d}-{today.month:02d}"  # an amount change takes effect then by default
        self.source = source  # the file name (for cases)
        self.now_s = repo._iso_datetime(now)
        # the columns every record of this import shares (written once per statement)
        self.person_const = {"death_date": None, "death_source": None, "created_at": self.now_s,
                             "updated_at": self.now_s, "updated_by": actor.operator, "workstation": actor.workstation}
        self.ent_const = {"status": "active", "status_since": None, "created_at": self.now_s, "updated_at": self.now_s}
        self.cert_const = {"method": "legacy", "result": "passed", "operator": actor.operator, "approver": None,
                           "workstation": actor.workstation, "batch_id": batch_id, "created_at": self.now_s}
        self.person_update_const = {"updated_at": self.now_s, "updated_by": actor.operator,
                                    "workstation": actor.workstation}
        self.ent_update_const = {"updated_at": self.now_s}
        self.amount_const = {"batch_id": batch_id, "operator": actor.operator, "created_at": self.now_s}
        # id_number -> [id, name, phone, address, residence, chunk, index, death date]: a person
        # in the database (chunk -1) or created by this import, by chunk number ``chunk`` at
        # ``index`` in that chunk's new rows (which are inserted when the chunk ends)
        self.person_state: dict[str, list] = {}
        self.chunk = 0
        self.ents: dict[tuple[str, str], dict] = {}  # (person id, cohort) -> entitlement
        self.cert_dates: set[tuple[str, str]] = set()  # (person id, ISO date) of certifications
        self.passed: set[str] = set()  # person ids with a passed certification
        self.no_cert: list[str] = []  # person id of each accepted row that may lack one
        self.history: bool | None = None  # whether entitlement_amounts has any rows (asked once)
        self.amount_months: dict[str, str] = {}  # entitlement id -> latest from_month of its history
        self.audit: list[tuple] = []
        self.cases: list[dict] = []


def _check_roster_header(path: Path, mapping: dict[str, str] | None = None) -> None:
    """Raise the whole-file errors of read_table (missing file or columns, encoding) up front."""
    it = read_table(path, ROSTER_REQUIRED, ROSTER_OPTIONAL, mapping)
    try:
        next(it)
    except StopIteration:
        pass
    finally:
        it.close()


def _widen_pipe(conn) -> None:
    """Linux: let the pipe hold a whole chunk (1 MiB instead of 64 KiB), so the reading process
    hands over a chunk in one write instead of waiting for this one to drain it piece by piece.
    Elsewhere (or when refused) the default buffer works, only a little slower."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass


class ImportService:
    def __init__(self, db: Database):
        self.db = db

    @property
    def profiles(self):
        """The saved source profiles (desktop.services.profiles) of this database."""
        from desktop.services.profiles import ProfileService

        return ProfileService(self.db)

    # --- roster --------------------------------------------------------------------------

    def import_roster(self, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None,
                      mapping: dict[str, str] | None = None) -> ImportReport:
        """``mapping``: {source header: field} for the columns synonyms do not recognise (the
        import dialog, ``--map`` or a profile: desktop.services.profiles)."""
        require(self.db, actor, "roster.import")
        today = today or date.today()
        report = ImportReport(dry_run=dry_run, kind="roster")
        batch_id, now = new_id(), utcnow()
        state = _RosterState(actor, batch_id, now, today, Path(path).name)
        with self._roster_chunks(Path(path), today, mapping) as chunks, self._unit_of_work(dry_run) as conn:
            for chunk in chunks:
                self._apply_roster(conn, chunk, report, state)
            passed = state.passed
            report.no_last_certified = sum(1 for pid in state.no_cert if pid not in passed)
            outbox: list[tuple] = []
            _open_cases(conn, state.cases, state.audit, outbox)
            journal.audit_many(conn, actor.operator, actor.workstation, state.audit)
            journal.enqueue(conn, outbox)
            self._finish_batch(conn, batch_id, "roster", path, report, actor, now)
        return report

    @contextmanager
    def _roster_chunks(self, path: Path, today: date, mapping: dict[str, str] | None = None):
        """Chunks of parsed/rejected row tuples in file order: read and validated here for a
        small file, in a second process for a large one (the worker is a module-level function,
        so this also works under the spawn start method of Windows/PyInstaller)."""
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        if size < PARALLEL_MIN_BYTES:
            yield iter_roster_chunks(path, today, PARALLEL_CHUNK, mapping=mapping)
            return
        import multiprocessing

        # spawn, not fork: the app imports from worker threads of a multi-threaded (Qt) process,
        # where fork can deadlock; it is also what Windows and the frozen app use anyway
        ctx = multiprocessing.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        _widen_pipe(receiver)
        proc = ctx.Process(target=roster_worker, args=(str(path), today, PARALLEL_CHUNK, sender, mapping), daemon=True)
        proc.start()
        sender.close()
        try:
            # whole-file problems (encoding, missing columns) raise here with their own message,
            # while the worker starts up (reading a large file takes as long as starting it)
            _check_roster_header(path, mapping)
        except BaseException:
            receiver.close()
            proc.terminate()
            proc.join(timeout=5)
            raise

        finished = []

        def chunks():
            while True:
                try:
                    part = receiver.recv()
                except EOFError:
                    raise UserFacingError("读取文件的进程意外退出", code="import_worker") from None
                if part is None:
                    finished.append(True)
                    return
                if type(part) is tuple:
                    raise UserFacingError(f"无法读取文件：{part[1]}", code="import_worker")
                yield part

        try:
            yield chunks()
        finally:
            receiver.close()
            if finished:
                # the worker has sent everything and is exiting: reap it without waiting for
                # its interpreter to shut down
                import threading

                threading.Thread(target=proc.join, name="roster-worker-reaper", daemon=True).start()
                return
            proc.terminate()  # stopped early (an error here): the worker may be blocked sending
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def _apply_roster(self, conn, rows: list[tuple], report: ImportReport, st: "_RosterState") -> None:
        """Apply one chunk of rows from :func:`iter_roster_chunks` (rejections, duplicates
        within the file already marked, records for new persons made); ``st`` carries what
        earlier chunks of the same file created (so nothing needs to be re-read) and the audit
        events."""
        actor, now = st.actor, st.now
        operator, ws = actor.operator, actor.workstation
        person_state, existing_ents, cert_dates = st.person_state, st.ents, st.cert_dates
        passed, no_cert = st.passed, st.no_cert
        reject = report.reject
        unknown = sorted({r[1] for r in rows if len(r) > 3 and r[1] not in person_state})
        fresh = repo.person_import_briefs(conn, unknown)
        if fresh:
            fresh_ids = [p["id"] for p in fresh.values()]
            ents = repo.entitlements_for_persons(conn, fresh_ids)
            existing_ents.update(ents)
            for pid, d, result in repo.certification_results_for_persons(conn, fresh_ids):
                cert_dates.add((pid, d))
                if result == "passed":
                    passed.add(pid)
            if st.history is None:
                st.history = repo.has_amount_history(conn)
            if st.history:
                st.amount_months.update(repo.latest_amount_months(conn, [e["id"] for e in ents.values()]))
            for number, p in fresh.items():
                person_state[number] = [p["id"], p["name"], p["phone"], p["address"], p["residence"], -1, 0,
                                        p["death_date"]]
        st.chunk += 1
        chunk_no = st.chunk

        new_persons: list[tuple] = []
        person_updates, new_ents, ent_updates, new_certs, new_amounts = [], [], [], [], []
        audit = st.audit
        # ids queued for the sync, per entity (bulk outbox entries; a dict keeps first-seen order)
        q_person: dict[str, None] = {}
        q_ent: list[str] = []
        q_cert: list[str] = []
        imported = 0
        warning = None  # (line, reason, WARN) of the next row, when it has one

        for r in rows:
            if len(r) <= 3:
                if len(r) == 2:
                    reject(r[0], r[1])
                else:
                    warning = r
                continue
            number = r[1]
            person = person_state.get(number)
            if person is None:
                # A new person (the common case of a large import): the reading process made
                # its records; there is nothing to compare.
                prec = r[13]
                pid = prec[0]
                person_state[number] = [pid, r[2], prec[5], prec[6], prec[7], chunk_no, len(new_persons), None]
                new_persons.append(prec)
                q_person[pid] = None
                erec = r[14]
                new_ents.append(erec)
                q_ent.append(erec[0])
                crec = r[15]
                if crec is not None:
                    cert_dates.add((pid, crec[2]))
                    new_certs.append(crec)
                    q_cert.append(crec[0])
                    passed.add(pid)
                else:
                    no_cert.append(pid)
                imported += 1
                continue

            changed = False
            if person[1] != r[2] and not same_name(person[1], r[2]):
                reject(r[0], "姓名与身份号码不符：与系统中该身份号码登记的姓名不同")
                warning = None
                continue
            pid = person[0]
            ent = existing_ents.get((pid, r[3]))
            amount_from = None
            if ent is not None:
                old_fen = ent["monthly_amount_fen"]
                amount = r[9] if r[9] is not None else old_fen
                # a new amount from a known one (or with its month given) is kept as history;
                # filling in an amount that was never known is not a change of the pension
                if amount != old_fen and (old_fen is not None or r[12] is not None):
                    amount_from = r[12] or max(st.month, r[4][:7])
                    latest = st.amount_months.get(ent["id"])
                    if latest is not None and amount_from < latest:
                        reject(r[0], f"待遇调整生效月份（{amount_from}）早于该待遇上次调整的生效月份（{latest}），请核对")
                        warning = None
                        continue
            if warning is not None:
                if warning[0] == r[0]:
                    report.warn(warning[0], warning[1])
                warning = None
            upd = (r[6] or person[2], r[7] or person[3], r[8] or person[4])
            if upd != tuple(person[2:5]):
                fields, old, new = [], {}, {}
                for k, i in (("address", 1), ("phone", 0), ("residence", 2)):
                    if person[2 + i] != upd[i]:
                        fields.append(k)
                        old[k], new[k] = person[2 + i], upd[i]
                person[2:5] = upd
                if person[5] == chunk_no:  # created by this chunk, not inserted yet
                    i = person[6]
                    new_persons[i] = (*new_persons[i][:5], *upd)
                else:
                    person_updates.append((*upd, pid))
                # the earlier values stay in the history: the event carries both
                audit.append(("person.update", "person", pid, {"fields": fields, "line": r[0], "old": old, "new": new}))
                q_person[pid] = None
                changed = True

            if ent is None:
                eid = r[14][0]
                existing_ents[(pid, r[3])] = {"id": eid, "start_date": r[4], "monthly_amount_fen": r[9]}
                new_ents.append(ent_record(eid, pid, r))
                q_ent.append(eid)
                outcome = "imported"
            else:
                start = r[4]
                if type(ent["start_date"]) is not str:
                    start = date.fromisoformat(start)
                old_fen = ent["monthly_amount_fen"]
                amount = r[9] if r[9] is not None else old_fen
                if ent["start_date"] != start or old_fen != amount:
                    fields = [k for k, v in (("start_date", start), ("monthly_amount_fen", amount)) if ent[k] != v]
                    detail = {"fields": fields}
                    if ent["start_date"] != start:
                        detail["start_date"] = {"old": str(ent["start_date"]), "new": r[4]}
                    if old_fen != amount:
                        detail["monthly_amount_fen"] = {"old": old_fen, "new": amount}
                    if amount_from is not None:
                        detail["from_month"] = amount_from
                        new_amounts.append((ent["id"], amount_from, amount, old_fen))
                        st.amount_months[ent["id"]] = amount_from
                    ent.update(start_date=start, monthly_amount_fen=amount, updated_at=now)
                    ent_updates.append((r[4], amount, ent["id"]))
                    audit.append(("entitlement.update", "entitlement", ent["id"], detail))
                    q_ent.append(ent["id"])
                    changed = True
                outcome = "updated" if changed else "unchanged"

            last = r[5]
            death = person[7]
            if last is not None and death is not None and last > death:
                # not proof of life: the certification is not recorded, a supervisor looks at it
                report.warn(r[0], "最近认证日期晚于已登记的死亡日期（疑似冒领）：该认证未登记，已转主管核查")
                st.cases.append(_case("certified_after_death", f"{pid}:{last}", pid, {
                    "cert_date": last, "death_date": death, "method": "legacy", "certified_by": operator,
                    "certified_at": ws, "source": st.source, "line": r[0]}, actor, now))
            elif last is not None and (pid, last) not in cert_dates:
                cid = r[15][0]
                cert_dates.add((pid, last))
                new_certs.append(cert_record(cid, pid, r))
                q_cert.append(cid)
                passed.add(pid)
                if outcome == "unchanged":
                    outcome = "updated"
            no_cert.append(pid)

            if outcome == "imported":
                imported += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.unchanged += 1
        report.imported += imported

        repo.insert_rows(conn, repo.persons, PERSON_COLS, new_persons, st.person_const)
        repo.update_rows(conn, repo.persons, "id", ("phone", "address", "residence"), person_updates,
                         st.person_update_const)
        repo.insert_rows(conn, repo.entitlements, ENT_COLS, new_ents, st.ent_const)
        repo.update_rows(conn, repo.entitlements, "id", ("start_date", "monthly_amount_fen"), ent_updates,
                         st.ent_update_const)
        q_amount = new_ids(len(new_amounts))
        repo.insert_amounts(conn, [(i, *a) for i, a in zip(q_amount, new_amounts)], st.amount_const)
        repo.insert_rows(conn, repo.certifications, CERT_COLS, new_certs, st.cert_const)
        # persons before their entitlements (and their amounts) before their certifications, as
        # the push needs them
        journal.enqueue_bulk(conn, "person", list(q_person), now)
        journal.enqueue_bulk(conn, "entitlement", q_ent, now)
        journal.enqueue_bulk(conn, "entitlement_amount", q_amount, now)
        journal.enqueue_bulk(conn, "certification", q_cert, now)

    # --- results and death reports --------------------------------------------------------

    def import_results(self, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None,
                       mapping: dict[str, str] | None = None) -> ImportReport:
        """Certification results (手机认证 / 信息比对) or death reports; the header tells which."""
        require(self.db, actor, "results.import")
        today = today or date.today()
        header_probe = read_header(Path(path), mapping)
        if MARKERS.intersection(header_probe):
            return self._import_deaths(path, actor, dry_run=dry_run, today=today, mapping=mapping)
        report = ImportReport(dry_run=dry_run, kind="results")
        rows = []
        seen: dict[tuple, int] = {}
        for row in read_table(path, RESULT_COLUMNS, (), mapping):
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
            new_certs, audit, outbox, cases = [], [], [], []
            for line, number, name, d, method, result in rows:
                person = persons.get(number)
                if person is None:
                    report.reject(line, "系统中没有该身份号码的待遇领取人员")
                    continue
                if not same_name(person["name"], name):
                    report.reject(line, "姓名与身份号码不符")
                    continue
                death = person["death_date"]
                if result == "passed" and death is not None and d > death:
                    # the classic sign of someone else using a dead person's account: not proof
                    # of life; refused, and a case for a supervisor (once per person and date)
                    report.reject(line, CERTIFIED_AFTER_DEATH)
                    cases.append(_case("certified_after_death", f"{person['id']}:{d.isoformat()}", person["id"], {
                        "cert_date": d.isoformat(), "death_date": death.isoformat(), "method": method,
                        "certified_by": actor.operator, "certified_at": actor.workstation,
                        "source": Path(path).name, "line": line}, actor, now))
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
            _open_cases(conn, cases, audit, outbox)
            journal.audit_many(conn, actor.operator, actor.workstation, audit)
            journal.enqueue(conn, outbox)
            self._finish_batch(conn, batch_id, "results", path, report, actor, now)
        return report

    def _import_deaths(self, path: Path, actor: Actor, *, dry_run: bool, today: date,
                       mapping: dict[str, str] | None = None) -> ImportReport:
        report = ImportReport(dry_run=dry_run, kind="deaths")
        rows, seen = [], {}
        for row in read_table(path, DEATH_REQUIRED, DEATH_OPTIONAL, mapping, one_of=DATE_FIELDS):
            try:
                r = parse_death_row(row.values, row.line, today)
            except CellError as exc:
                report.reject(row.line, str(exc))
                continue
            number = r.number
            if number in seen:
                report.reject(row.line, f"与第{seen[number]}行重复（同一人的死亡报告）")
                continue
            seen[number] = row.line
            rows.append(r)

        batch_id, now = new_id(), utcnow()
        with self._unit_of_work(dry_run) as conn:
            persons = repo.persons_by_numbers(conn, sorted({r.number for r in rows}))
            ents: dict[str, list[dict]] = {}
            for (pid, _cohort), e in repo.entitlements_for_persons(conn, [p["id"] for p in persons.values()]).items():
                ents.setdefault(pid, []).append(e)
            audit, outbox, cases = [], [], []
            for r in rows:
                line, number, name, d, source = r.line, r.number, r.name, r.death_date, r.source
                person = persons.get(number)
                if person is None:
                    report.reject(line, "系统中没有该身份号码的待遇领取人员")
                    continue
                if not same_name(person["name"], name):
                    report.reject(line, "姓名与身份号码不符")
                    continue
                if r.review is not None:
                    # deregistered, not dead (迁出, 出国 …): nothing changes, a supervisor checks
                    report.review.append({"line": line, "reason": REVIEW_REASON.format(reason=r.review)})
                    cases.append(_case("deregistered_not_death", f"{person['id']}:{r.review}:{d}", person["id"], {
                        "reason": r.review, "date": d.isoformat() if d else None, "source": Path(path).name,
                        "line": line, "list_source": source, "reported_by": actor.operator}, actor, now))
                    continue
                if person["birth_date"] and d < person["birth_date"]:
                    report.reject(line, "死亡日期早于出生日期")
                    continue
                if r.flagged:
                    report.warn(line, FLAG_DEREG_DATE)
                    source = ((source or "户籍注销") + "（按注销日期）")[:100]
                before = sorted((e for e in ents.get(person["id"], ()) if _as_date(e["start_date"]) > d),
                                key=lambda e: _as_date(e["start_date"]))
                if before:
                    # imported (the death is a fact) but not silently: a benefit that started
                    # after its holder died is a red flag for a supervisor
                    names = "、".join(f"{COHORTS[e['cohort']].name_zh} {_as_date(e['start_date']).isoformat()}"
                                     if e["cohort"] in COHORTS else str(e["start_date"]) for e in before)
                    report.warn(line, f"{DEATH_BEFORE_START}（{names}），已转主管核查")
                    cases.append(_case("death_before_start", f"{person['id']}:{d.isoformat()}", person["id"], {
                        "death_date": d.isoformat(), "source": Path(path).name, "line": line,
                        "death_source": source, "reported_by": actor.operator, "reported_at": actor.workstation,
                        "entitlements": [{"entitlement_id": e["id"], "cohort": e["cohort"],
                                          "start_date": _as_date(e["start_date"]).isoformat()} for e in before]},
                        actor, now))
                if person["death_date"] == d:
                    report.unchanged += 1
                    continue
                was = person["death_date"]
                repo.set_death(conn, person["id"], d, source, now, actor.operator)
                person.update(death_date=d, death_source=source, updated_at=now)
                audit.append(("person.death_reported", "person", person["id"],
                              {"death_date": d.isoformat(), "source": source, "previous": was.isoformat() if was else None,
                               **({"date_from": "注销日期"} if r.flagged else {})}))
                outbox.append(("person", person["id"], None))
                if was is None:
                    report.imported += 1
                else:
                    report.updated += 1
            _open_cases(conn, cases, audit, outbox)
            journal.audit_many(conn, actor.operator, actor.workstation, audit)
            journal.enqueue(conn, outbox)
            self._finish_batch(conn, batch_id, "deaths", path, report, actor, now)
        return report

    @contextmanager
    def _unit_of_work(self, dry_run: bool):
        """One transaction for a whole file: committed, or rolled back for a dry run or an error."""
        with self.db.engine.connect() as conn, bulk_write(conn):
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
        summary = {**report.as_json(), "rejected": len(report.rejected), "warnings": len(report.warnings)}
        repo.insert_batch(conn, {"id": batch_id, "kind": kind, "filename": Path(path).name,
                                 "summary": json.dumps(summary), "operator": actor.operator,
                                 "workstation": actor.workstation, "created_at": now})
        journal.audit(conn, actor.operator, actor.workstation, f"{kind}.import", "import_batch", batch_id,
                      {"file": Path(path).name, **summary})


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
