"""Issue 20's table: CertDesk beside bare sqlite3 doing the same work, measured in one run.

    uv run python bench/bench_speed.py --entitlements 200000 [--repeat 3] [--json]

* **roster import**: the foundation bench's roster CSV (N rows), end to end through
  ImportService (full validation, duplicates, audit, sync queue, the maintained aggregates'
  triggers) on a fresh database, versus bare sqlite3 loading the same file — ``csv.reader`` and
  one ``executemany`` into one plain table, one commit.
* **go-live payroll month**: last certifications spread over 2025-01 … 2026-11 (≈ 58 % of the
  roster lapses by 2026-12), the recorded run of 2026-12, versus bare sqlite3 listing the same
  lapsed entitlements (the same effective-last rule, one correlated subquery per entitlement, the
  thresholds the run uses) and writing one event row each with ``INSERT … SELECT``.

* **the schema's floor** (beside the import): the least any program must do to put the same file
  into CertDesk's own tables — ``csv.reader``, each line mapped to its columns with fresh keys (no
  validation, no decisions, no audit, no sync queue), then the import's own set-wise statements
  (``db.import_bulk``: one staging ``executemany`` and one ``INSERT … SELECT`` per table, the
  aggregates counted once) on the driver's connection, in one transaction with the whole file
  as one chunk. ``core`` is the same without the maintained aggregates (the three tables only).
  It measures what the schema costs SQLite, whatever the code around it: the import's ratio to
  it is the code's own overhead.

Each figure is the median of ``--repeat`` runs (wall and the process's own CPU); the load
average is printed beside them (the machine is shared). Peak RSS of the process at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("CERTDESK_HOME", tempfile.mkdtemp(prefix="certdesk-bench-"))

from bench_foundation import ACTOR, TODAY, rss_mb, write_roster  # noqa: E402


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def med(xs):
    return round(statistics.median(xs), 2)


def bare_load(csv_path: Path, db_path: Path) -> int:
    if db_path.exists():
        db_path.unlink()
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        r = csv.reader(fh)
        header = next(r)
        con.execute(f"CREATE TABLE roster ({', '.join(f'c{i}' for i in range(len(header)))})")
        con.executemany(f"INSERT INTO roster VALUES ({', '.join('?' * len(header))})", r)
    con.commit()
    n = con.execute("SELECT count(*) FROM roster").fetchone()[0]
    con.close()
    return n


def floor_load(csv_path: Path, template: Path, db_path: Path, aggregates: bool) -> tuple[int, float]:
    """The schema's floor (see the module docstring): the file's rows into a fresh CertDesk
    database (a copy of ``template``, made before the clock starts) through the import's own
    statements, nothing else. Returns the rows written and the seconds of SQL (from the first
    statement to the commit)."""
    import shutil

    from db import import_bulk
    from db.engine import bulk_write, make_engine
    from db.ids import new_ids
    from desktop.domain.rules import COHORT_BY_NAME
    from desktop.services.roster_import import PARALLEL_CHUNK as CHUNK

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, db_path)
    # the app's own connection set-up (WAL, foreign keys, synchronous=FULL, cache, temp store)
    engine = make_engine(f"sqlite:///{db_path}")
    residence = {"本地": "local", "异地": "remote"}
    with csv_path.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))[1:]
    keys = iter(new_ids(3 * len(lines)))
    rows = [(next(keys), number, name, "M" if int(number[16]) % 2 else "F",
             f"{number[6:10]}-{number[10:12]}-{number[12:14]}", phone, address, residence[res],
             next(keys), COHORT_BY_NAME[cohort], start, int(amount) * 100, next(keys), last,
             f'{{"source":"roster","line":{i}}}')
            for i, (name, number, cohort, start, last, phone, address, res, amount) in enumerate(lines, 2)]
    t1 = time.perf_counter()  # the SQL from here: the writes, the aggregates, the commit
    now = "2026-12-05 00:00:00.000000"
    consts = {"persons": {"death_date": None, "death_source": None, "created_at": now, "updated_at": now,
                          "updated_by": ACTOR.operator, "workstation": ACTOR.workstation},
              "entitlements": {"status": "active", "status_since": None, "created_at": now, "updated_at": now},
              "certifications": {"method": "legacy", "result": "passed", "operator": ACTOR.operator,
                                 "approver": None, "workstation": ACTOR.workstation, "batch_id": new_ids(1)[0],
                                 "created_at": now}}
    with engine.connect() as conn, bulk_write(conn):
        with conn.begin():
            fresh = import_bulk.NewPersons(conn, consts)
            for i in range(0, len(rows), CHUNK):  # in the import's chunks (one chunk: no faster)
                fresh.write(rows[i:i + CHUNK])
            if aggregates:
                fresh.finish()
    sql = time.perf_counter() - t1
    engine.dispose()
    return len(rows), sql


def bare_payroll(engine, thresholds: dict[str, str], day: str) -> int:
    """The run's reference: the lapsed entitlements by the same rule, one event row each, as
    plain SQL on the driver's own connection (sqlite3, or SQLCipher's when encrypted)."""
    con = engine.raw_connection().driver_connection
    case = " ".join(f"WHEN '{c}' THEN '{t}'" for c, t in thresholds.items())
    con.execute("CREATE TABLE IF NOT EXISTS bare_events (id INTEGER PRIMARY KEY, entitlement_id TEXT, kind TEXT, "
                "payroll_month TEXT, detail TEXT)")
    con.execute("DELETE FROM bare_events")
    cur = con.execute(
        "INSERT INTO bare_events (entitlement_id, kind, payroll_month, detail) "
        "SELECT id, 'suspend', '2026-12', json_object('last', last) FROM ("
        "SELECT e.id, e.cohort, e.start_date, (SELECT max(c.cert_date) FROM certifications c "
        "WHERE c.person_id = e.person_id AND c.result = 'passed' AND c.cert_date <= ?) AS last "
        "FROM entitlements e) "
        f"WHERE max(start_date, coalesce(last, start_date)) < CASE cohort {case} ELSE '9999-12-31' END", (day,))
    n = cur.rowcount
    con.commit()
    con.execute("DROP TABLE bare_events")
    return n


def main() -> None:
    from sqlalchemy import text

    from desktop.domain.months import Month
    from desktop.services.database import Database
    from desktop.services.imports import ImportService
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService
    from desktop.services.payroll_rows import lapse_threshold

    ap = argparse.ArgumentParser()
    ap.add_argument("--entitlements", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--import-only", action="store_true", help="measure the roster import only (skip the payroll)")
    ap.add_argument("--encrypted", action="store_true",
                    help="the database encrypted at rest as installed (SQLCipher; needs CERTDESK_KEYSTORE=memory "
                         "and CERTDESK_MODE=test here); default plaintext, like the bare reference")
    args = ap.parse_args()
    if not args.encrypted:
        from db import engine as db_engine

        db_engine.set_key_provider(None)
    n, rep = args.entitlements, args.repeat
    work = Path(tempfile.mkdtemp(prefix="certdesk-bench-speed-"))
    roster = work / "roster.csv"
    write_roster(roster, 0, n, random.Random(7))
    out: dict = {"entitlements": n, "encrypted": args.encrypted, "load_before": [round(x, 1) for x in os.getloadavg()]}

    # --- roster import ----------------------------------------------------------------------------
    template = work / "template.sqlite"
    Database.open(f"sqlite:///{template}").dispose()  # migrated, empty (a go-live)
    bare, imp, floor, core = [], [], [], []
    db = None
    for k in range(rep):
        bare.append(timed(lambda: bare_load(roster, work / "bare.sqlite"))[:2])
        if db is not None:
            db.dispose()
        path = work / f"import{k}.sqlite"
        db = Database.open(f"sqlite:///{path}")
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        w, c, report = timed(lambda: ImportService(db).import_roster(roster, ACTOR, today=TODAY))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert report.imported == n and not report.rejected
        # the reading process (validation) is a child: its CPU counts too
        imp.append((w, c + (after.ru_utime + after.ru_stime) - (kids.ru_utime + kids.ru_stime)))
        fw, fc, (fn, fs) = timed(lambda: floor_load(roster, template, work / "floor.sqlite", True))
        assert fn == n
        floor.append((fw, fc, fs))
        cw, cc, (_, cs) = timed(lambda: floor_load(roster, template, work / "floor.sqlite", False))
        core.append((cw, cc, cs))
        print(f"  import {k + 1}: {w:.2f} s (bare {bare[-1][0]:.2f} s; the schema's floor {fw:.2f} s, its SQL "
              f"{fs:.2f} s; core {cw:.2f} s, its SQL {cs:.2f} s)", file=sys.stderr, flush=True)
    out["import"] = {"wall_s": med([x[0] for x in imp]), "cpu_s_both_processes": med([x[1] for x in imp]),
                     "bare_wall_s": med([x[0] for x in bare]), "bare_cpu_s": med([x[1] for x in bare])}
    out["import"]["ratio_wall"] = round(out["import"]["wall_s"] / out["import"]["bare_wall_s"], 1)
    out["import"]["rows_per_s"] = round(n / out["import"]["wall_s"])
    # the floor whole, and its SQL alone (as if reading and mapping the file cost nothing)
    out["import"]["schema_floor"] = {
        "wall_s": med([x[0] for x in floor]), "cpu_s": med([x[1] for x in floor]),
        "sql_wall_s": med([x[2] for x in floor]),
        "core_wall_s": med([x[0] for x in core]), "core_cpu_s": med([x[1] for x in core]),
        "core_sql_wall_s": med([x[2] for x in core])}
    f = out["import"]["schema_floor"]
    for k in ("wall_s", "sql_wall_s", "core_wall_s", "core_sql_wall_s"):
        f[k.replace("wall_s", "ratio_to_bare")] = round(f[k] / out["import"]["bare_wall_s"], 1)
    out["import"]["ratio_to_floor"] = round(out["import"]["wall_s"] / f["wall_s"], 2)

    # --- go-live payroll month ----------------------------------------------------------------------
    if args.import_only:
        _finish(out, args, n)
        return
    rng = random.Random(7)
    with db.engine.begin() as conn:
        ids = [r[0] for r in conn.execute(text("select id from certifications"))]
        conn.execute(text("update certifications set cert_date=:d where id=:i"),
                     [{"i": i, "d": (date(2025, 1, 1) + timedelta(days=rng.randint(0, 697))).isoformat()}
                      for i in ids])
    pay = PayrollService(db, SettingsService(db))
    month = Month(2026, 12)
    thresholds = {r.cohort: lapse_threshold(r, month.index) for r in db.rule_table().rules()}
    day = pay.run_day(month).isoformat()
    runs, bares = [], []
    for k in range(rep):
        with db.engine.begin() as conn:  # the same first run again (median)
            for t in ("entitlement_events", "payroll_runs", "outbox"):
                conn.execute(text(f"delete from {t}"))
            conn.execute(text("update entitlements set status = 'active', status_since = NULL "
                              "where status <> 'active'"))
        r = None  # one run's answer alive at a time
        w, c, r = timed(lambda: pay.run(month, ACTOR))
        runs.append((w, c))
        suspended = len(r.suspend)
        bw, bc, bn = timed(lambda: bare_payroll(db.engine, thresholds, day))
        bares.append((bw, bc))
        print(f"  payroll {k + 1}: {w:.2f} s, {suspended:,} suspensions (bare {bw:.2f} s, {bn:,})",
              file=sys.stderr, flush=True)
    out["payroll"] = {"instructions": suspended, "bare_rows": bn,
                      "wall_s": med([x[0] for x in runs]), "cpu_s": med([x[1] for x in runs]),
                      "bare_wall_s": med([x[0] for x in bares]), "bare_cpu_s": med([x[1] for x in bares])}
    out["payroll"]["ratio_wall"] = round(out["payroll"]["wall_s"] / out["payroll"]["bare_wall_s"], 1)
    _finish(out, args, n)


def _finish(out: dict, args, n: int) -> None:
    out["max_rss_mb"] = round(rss_mb())
    out["load_after"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.json:
        (ROOT / "bench" / "results").mkdir(exist_ok=True)
        (ROOT / "bench" / "results" / f"speed-{n}{'-encrypted' if args.encrypted else ''}"
                                           f"{'-import' if args.import_only else ''}.json").write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
