"""The roster import (issue 2 §5, issue 14, issue 20): every row of the provincial roster file
imported, updated, unchanged or rejected, in one transaction (:mod:`desktop.services.import_batch`).

A second line of the same person with other contact details is imported with a warning (the
later line wins). A passed last certification dated after the recorded death is not proof of
life: not recorded, a case for a supervisor. A change of the monthly amount is kept as history
(``entitlement_amounts``, from 待遇调整生效月份 or the import month).

A large file is read and validated in a second process (:func:`roster_chunks`, the worker is
``desktop.formats.roster_rows.roster_worker``) while this one writes; the worker is joined where
the import finishes, so no thread is left behind to reap it.
"""

from __future__ import annotations

import queue
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from db import import_bulk, import_repo, journal
from db import repositories as repo
from db.bulk import _iso_datetime, insert_rows, update_rows
from db.certification_queries import certification_results_for_persons
from db.ids import new_ids
from db.models import new_id, utcnow
from desktop.errors import UserFacingError
from desktop.formats.import_mapping import read_table
from desktop.formats.roster_rows import (
    CERT_COLS,
    ENT_COLS,
    PERSON_COLS,
    ROSTER_OPTIONAL,
    ROSTER_REQUIRED,
    cert_record,
    ent_record,
    iter_roster_chunks,
    line_record,
    records,
    roster_worker,
    same_name,
)
from desktop.platform.workstation import Actor
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.services.import_batch import ImportReport, case, finish_batch, open_cases, unit_of_work


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
        self.now_s = _iso_datetime(now)
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
        # the persons this import creates, written through a staging table with the aggregates'
        # triggers quiet and counted into them once, at the end (db/import_bulk.py); None where the
        # aggregates are not maintained (then they go the ordinary way)
        self.fresh: import_bulk.NewPersons | None = None
        # whether the database had any person when the import began: if not (a first import, a
        # go-live), every person of the file is new and no line needs looking up
        self.had_persons = True


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


def import_roster(db: Database, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None,
                  mapping: dict[str, str] | None = None) -> ImportReport:
    """``mapping``: {source header: field} for the columns synonyms do not recognise (the
    import dialog, ``--map`` or a profile: desktop.services.profiles)."""
    require(db, actor, "roster.import")
    today = today or date.today()
    report = ImportReport(dry_run=dry_run, kind="roster")
    batch_id, now = new_id(), utcnow()
    state = _RosterState(actor, batch_id, now, today, Path(path).name)
    with roster_chunks(Path(path), today, mapping) as chunks, unit_of_work(db, dry_run) as conn:
        state.had_persons = import_repo.has_persons(conn)
        if import_bulk.available(conn):
            state.fresh = import_bulk.NewPersons(conn, {
                "persons": state.person_const, "entitlements": state.ent_const, "certifications": state.cert_const})
        for chunk in chunks:
            apply_roster(conn, chunk, report, state)
        if state.fresh is not None:
            state.fresh.finish()
        passed = state.passed
        report.no_last_certified = sum(1 for pid in state.no_cert if pid not in passed)
        outbox: list[tuple] = []
        open_cases(conn, state.cases, state.audit, outbox)
        journal.audit_many(conn, actor.operator, actor.workstation, state.audit)
        journal.enqueue(conn, outbox)
        finish_batch(conn, batch_id, "roster", path, report, actor, now)
    return report


@contextmanager
def roster_chunks(path: Path, today: date, mapping: dict[str, str] | None = None):
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
    # A thread receives and unpickles the next chunks while this one writes: SQLite lets go of
    # the GIL while a statement runs, so on a second core the hand-over costs the writer nothing.
    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def receive() -> None:
        while True:
            try:
                part = receiver.recv()
            except (EOFError, OSError):
                part = EOFError
            except BaseException as exc:  # handed to the writer, which raises it
                part = _Failed(exc)
            while not stop.is_set():
                try:
                    ready.put(part, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if type(part) is not list or stop.is_set():
                return

    thread = threading.Thread(target=receive, name="roster-receiver", daemon=True)
    thread.start()

    def chunks():
        while True:
            part = ready.get()
            if part is EOFError:
                raise UserFacingError("读取文件的进程意外退出", code="import_worker")
            if type(part) is _Failed:
                raise part.exc
            if part is None:
                finished.append(True)
                return
            if type(part) is tuple:
                raise UserFacingError(f"无法读取文件：{part[1]}", code="import_worker")
            yield part

    try:
        yield chunks()
    finally:
        stop.set()
        if not finished:
            proc.terminate()  # stopped early (an error here): the worker may be blocked sending
        thread.join(timeout=5)  # the worker gone, its pipe is closed: the thread's receive returns
        if thread.is_alive():
            proc.kill()
            thread.join(timeout=5)
        receiver.close()
        # Joined here, where the import finishes (after its commit: the transaction's context
        # is left first). A worker that sent everything has been shutting down meanwhile, so
        # this seldom waits, and no thread is left behind to reap it.
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()


class _Failed:
    """An exception of the receiving thread, for the writer to raise."""

    def __init__(self, exc: BaseException):
        self.exc = exc


def apply_roster(conn, rows: list[tuple], report: ImportReport, st: "_RosterState") -> None:
    """Apply one chunk of rows from :func:`iter_roster_chunks` (rejections, duplicates
    within the file already marked, records for new persons made); ``st`` carries what
    earlier chunks of the same file created (so nothing needs to be re-read) and the audit
    events."""
    actor, now = st.actor, st.now
    operator, ws = actor.operator, actor.workstation
    person_state, existing_ents, cert_dates = st.person_state, st.ents, st.cert_dates
    passed, no_cert = st.passed, st.no_cert
    reject = report.reject
    fresh = {}
    if st.had_persons:
        unknown = sorted({r[1] for r in rows if len(r) > 3 and r[1] not in person_state})
        fresh = import_repo.person_import_briefs(conn, unknown)
    if fresh:
        fresh_ids = [p["id"] for p in fresh.values()]
        ents = repo.entitlements_for_persons(conn, fresh_ids)
        existing_ents.update(ents)
        for pid, d, result in certification_results_for_persons(conn, fresh_ids):
            cert_dates.add((pid, d))
            if result == "passed":
                passed.add(pid)
        if st.history is None:
            st.history = import_repo.has_amount_history(conn)
        if st.history:
            st.amount_months.update(import_repo.latest_amount_months(conn, [e["id"] for e in ents.values()]))
        for number, p in fresh.items():
            person_state[number] = [p["id"], p["name"], p["phone"], p["address"], p["residence"], -1, 0,
                                    p["death_date"]]
    st.chunk += 1
    chunk_no = st.chunk

    # the records (REC_COLS) of the persons this import creates: their first lines, and the new
    # entitlements and certifications of their later lines (see _RosterState.fresh)
    staged: list[tuple] = []
    person_updates, new_ents, ent_updates, new_certs, new_amounts = [], [], [], [], []
    quiet = st.fresh is not None
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
            # its record; there is nothing to compare.
            rec = r[13]
            pid = rec[0]
            person_state[number] = [pid, r[2], rec[5], rec[6], rec[7], chunk_no, len(staged), None]
            staged.append(rec)
            q_person[pid] = None
            q_ent.append(rec[8])
            cid = rec[12]
            if cid is not None:
                cert_dates.add((pid, rec[13]))
                q_cert.append(cid)
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
        known = person[5] == -1 or not quiet  # in the database before this import
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
                staged[i] = (*staged[i][:5], *upd, *staged[i][8:])
            else:
                person_updates.append((*upd, pid))
            # the earlier values stay in the history: the event carries both
            audit.append(("person.update", "person", pid, {"fields": fields, "line": r[0], "old": old, "new": new}))
            q_person[pid] = None
            changed = True

        new_eid = new_cid = None
        if ent is None:
            new_eid = eid = r[13][8]
            existing_ents[(pid, r[3])] = {"id": eid, "start_date": r[4], "monthly_amount_fen": r[9]}
            if known:
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
            st.cases.append(case("certified_after_death", f"{pid}:{last}", pid, {
                "cert_date": last, "death_date": death, "method": "legacy", "certified_by": operator,
                "certified_at": ws, "source": st.source, "line": r[0]}, actor, now))
        elif last is not None and (pid, last) not in cert_dates:
            new_cid = cid = r[13][12]
            cert_dates.add((pid, last))
            if known:
                new_certs.append(cert_record(cid, pid, r))
            q_cert.append(cid)
            passed.add(pid)
            if outcome == "unchanged":
                outcome = "updated"
        no_cert.append(pid)
        if not known and (new_eid or new_cid):
            staged.append(line_record(pid, new_eid, new_cid, r))

        if outcome == "imported":
            imported += 1
        elif outcome == "updated":
            report.updated += 1
        else:
            report.unchanged += 1
    report.imported += imported

    if quiet:  # new persons through the staging table (db/import_bulk.py)
        st.fresh.write(staged)
    else:
        parts = [records(rec) for rec in staged]
        insert_rows(conn, repo.persons, PERSON_COLS, [p for p, _, _ in parts], st.person_const)
        new_ents.extend(e for _, e, _ in parts)  # a first line always has its entitlement
        new_certs.extend(c for _, _, c in parts if c is not None)
    update_rows(conn, repo.persons, "id", ("phone", "address", "residence"), person_updates,
                     st.person_update_const)
    # certifications before the entitlements: a known person's new entitlements then enter the
    # maintained aggregates (coverage bucket, clock) once, at their certified date, instead of at
    # the start date first and moved (db/aggregates.py; about 10 us a row less)
    insert_rows(conn, repo.certifications, CERT_COLS, new_certs, st.cert_const)
    insert_rows(conn, repo.entitlements, ENT_COLS, new_ents, st.ent_const)
    update_rows(conn, repo.entitlements, "id", ("start_date", "monthly_amount_fen"), ent_updates,
                     st.ent_update_const)
    q_amount = new_ids(len(new_amounts))
    import_repo.insert_amounts(conn, [(i, *a) for i, a in zip(q_amount, new_amounts)], st.amount_const)
    # persons before their entitlements (and their amounts) before their certifications, as
    # the push needs them
    journal.enqueue_bulk(conn, "person", list(q_person), now)
    journal.enqueue_bulk(conn, "entitlement", q_ent, now)
    journal.enqueue_bulk(conn, "entitlement_amount", q_amount, now)
    journal.enqueue_bulk(conn, "certification", q_cert, now)
