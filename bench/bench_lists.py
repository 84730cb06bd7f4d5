"""Issue 8 benchmark: lists and exports at league scale. Prints numbers (not a timed test).

    uv run python bench/bench_lists.py --entitlements 1000000

Targets: with 1,000,000 entitlements a list opens in ≤ 5 s; an XLSX export of 100,000 rows takes
≤ 15 s. Issue 20: the outreach list's first screen ≤ 0.3 s and the whole list sorted ≤ 2 s, the XLSX
of 100,000 rows ≤ 5 s (median of ``--repeat``, wall and CPU; ``--lists-only`` skips the Python
reference list and the dashboard). The big database is built with bulk inserts (db.bulk.bulk_insert): persons,
entitlements and one certification per person, as the roster import would leave them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CERTDESK_HOME", tempfile.mkdtemp(prefix="certdesk-bench-"))
os.environ.setdefault("CERTDESK_MODE", "test")  # the simulation database key: no OS key store needed (issue 16)

from db.models import Certification, Entitlement, Person, new_id  # noqa: E402
from db.bulk import bulk_insert  # noqa: E402
from desktop.domain.idnumber import make_number  # noqa: E402
from desktop.domain.rules import COHORTS  # noqa: E402
from desktop.services.database import Database  # noqa: E402
from desktop.services.outreach import OutreachRow, OutreachService  # noqa: E402
from desktop.services.settings import SettingsService
from desktop.services.hub import Services  # noqa: E402
from desktop.services.payroll_review import MonthReview  # noqa: E402
from desktop.platform.workstation import Actor  # noqa: E402

TODAY = date(2026, 11, 29)
REGIONS = ["152201", "152202", "152221", "152222", "152223", "152224", "150102", "150203"]
ACTOR = Actor("bench", "bench-ws", "admin")
CHUNK = 100_000


def build(db: Database, n: int, seed: int = 8) -> float:
    rng = random.Random(seed)
    cohorts = list(COHORTS)
    now = datetime(2026, 11, 1)
    t = time.perf_counter()
    with db.engine.begin() as conn:
        for lo in range(0, n, CHUNK):
            persons, ents, certs = [], [], []
            for i in range(lo, min(n, lo + CHUNK)):
                region = REGIONS[i % len(REGIONS)]
                birth = date(1930, 1, 1) + timedelta(days=(i // len(REGIONS)) % 12000)
                number = make_number(region, birth, (i // (len(REGIONS) * 12000)) + 1)
                pid = new_id()
                persons.append({"id": pid, "id_number": number, "name": "王桂兰", "sex": "F", "birth_date": birth,
                                "phone": f"139{i:08d}", "address": "阿尔山市林海街道", "residence": "local" if i % 5 else "remote",
                                "death_date": None, "death_source": None, "created_at": now, "updated_at": now,
                                "updated_by": "bench", "workstation": "bench"})
                cohort = cohorts[i % 6]
                ents.append({"id": new_id(), "person_id": pid, "cohort": cohort, "start_date": date(2012, 5, 1),
                             "monthly_amount_fen": 100_000 + i % 300_000, "status": "active", "status_since": None,
                             "created_at": now, "updated_at": now})
                last = TODAY - timedelta(days=rng.randint(0, 420) if cohort != "enterprise_survivor" else rng.randint(0, 40))
                certs.append({"id": new_id(), "person_id": pid, "cert_date": last, "method": "legacy", "result": "passed",
                              "evidence": None, "operator": "bench", "approver": None, "workstation": "bench",
                              "batch_id": None, "created_at": now})
            bulk_insert(conn, Person.__table__, persons)
            bulk_insert(conn, Entitlement.__table__, ents)
            bulk_insert(conn, Certification.__table__, certs)
            print(f"  {min(n, lo + CHUNK):,} entitlements inserted ({time.perf_counter() - t:.1f} s)", flush=True)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entitlements", type=int, default=1_000_000)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--db", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lists-only", action="store_true", help="only issue 20's paged views and XLSX")
    ap.add_argument("--encrypted", action="store_true", help="the database encrypted as installed (SQLCipher)")
    args = ap.parse_args()
    if not args.encrypted:  # a file made here can be reused by a later run (a memory key dies with the process)
        from db import engine as db_engine

        db_engine.set_key_provider(None)
    tmp = Path(tempfile.mkdtemp(prefix="certdesk-bench-lists-"))
    path = Path(args.db) if args.db else tmp / "big.sqlite"
    fresh = not path.exists()
    db = Database.open(str(path))
    results = {"entitlements": args.entitlements}
    if fresh:
        results["build_s"] = round(build(db, args.entitlements), 1)
        print(f"built {args.entitlements:,} entitlements in {results['build_s']} s")

    # issue 20: the list as a paged view — the first screen (the first 200 rows, straight from the
    # maintained clock's deadline index), then the whole list made in the background (counts, any
    # order, filters), re-sorted by name, read through in the list's order, exported streamed
    results["load_start"] = [round(x, 1) for x in os.getloadavg()]
    for days in (30, 60):
        runs = []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            view = Services(db).lists.outreach(days, TODAY)
            first = view.page(None, 200)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            view.complete()
            whole, whole_c = time.perf_counter() - t, time.process_time() - c
            n_all = view.count
            t = time.perf_counter()
            view.sort("name")
            view.page(None, 200)
            resort = time.perf_counter() - t
            view.sort(None)
            t = time.perf_counter()
            sum(1 for _ in view.rows())
            read = time.perf_counter() - t
            runs.append((dt, dc, whole, whole_c, resort, read))
            view.close()
        dt, dc, whole, whole_c, resort, read = (statistics.median(x) for x in zip(*runs))
        results[f"view_{days}d_first_screen_s"] = round(dt, 3)
        results[f"view_{days}d_first_screen_cpu_s"] = round(dc, 3)
        results[f"view_{days}d_whole_list_s"] = round(whole, 2)
        results[f"view_{days}d_whole_list_cpu_s"] = round(whole_c, 2)
        results[f"view_{days}d_resort_by_name_s"] = round(resort, 3)
        results[f"view_{days}d_read_every_row_s"] = round(read, 2)
        results[f"view_{days}d_rows"] = n_all
        print(f"outreach view, {days} days ({n_all:,} people; median of {args.repeat}): first screen "
              f"({len(first)} rows) {dt:.3f} s (CPU {dc:.3f}), whole list made {whole:.2f} s (CPU {whole_c:.2f}), "
              f"re-sorted by name {resort:.3f} s, every row read through pages {read:.2f} s (targets 0.3 / 2 s)")

    # the XLSX of the 30-day view, streamed from the database (one sheet per channel)
    view = Services(db).lists.outreach(30, TODAY)
    times = []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        Services(db).outreach.export_view(view, tmp / "view.xlsx", TODAY)
        times.append((time.perf_counter() - t, time.process_time() - c))
    dt, dc = (statistics.median(x) for x in zip(*times))
    results["view_30d_xlsx_rows"] = view.count
    results["view_30d_xlsx_s"], results["view_30d_xlsx_cpu_s"] = round(dt, 2), round(dc, 2)
    print(f"outreach view XLSX, {view.count:,} rows streamed: {dt:.2f} s (CPU {dc:.2f}; median of {args.repeat})")
    view.close()

    svc = OutreachService(db, SettingsService(db))
    for days in (() if args.lists_only else (30, 60)):  # the whole list in Python, the reference
        t = time.perf_counter()
        rows = svc.due_within(days, TODAY)
        dt = time.perf_counter() - t
        results[f"outreach_list_{days}d_s"] = round(dt, 2)
        results[f"outreach_list_{days}d_rows"] = len(rows)
        print(f"outreach list, deadline within {days} days: {len(rows):,} residents in {dt:.2f} s (target ≤ 5 s)")
    if args.lists_only:
        view = Services(db).lists.outreach(30, TODAY)
        rows = list(itertools.islice(view.rows(), args.rows))
        view.close()

    big = (rows * (args.rows // max(len(rows), 1) + 1))[: args.rows]
    times = []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        svc.export_xlsx(big, tmp / "outreach.xlsx", TODAY)
        times.append((time.perf_counter() - t, time.process_time() - c))
    dt, dc = (statistics.median(x) for x in zip(*times))
    results["outreach_xlsx_rows"] = len(big)
    results["outreach_xlsx_s"], results["outreach_xlsx_cpu_s"] = round(dt, 2), round(dc, 2)
    print(f"outreach XLSX, {len(big):,} rows: {dt:.2f} s (CPU {dc:.2f}; median of {args.repeat}; target ≤ 5 s)")

    # a payroll hand-over of 100,000 instructions (full ID numbers), written by the review service
    items = [{"entitlement_id": r.person_id, "person_id": r.person_id, "id_number": r.id_number, "name": r.name,
              "cohort": "enterprise_retiree", "suspend_from": "2026-12", "effective_month": "2026-12",
              "missed_deadline": r.deadline.isoformat(), "last_certified": "2025-11-30",
              "paid_while_overdue": []} for r in big]
    review = MonthReview("2026-12", date(2026, 12, 1), True, {"suspend": items, "resume": [], "terminate": [], "recover": []})
    times = []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        Services(db).payroll_review.export(review, tmp / "payroll.xlsx", ACTOR)
        times.append((time.perf_counter() - t, time.process_time() - c))
    dt, dc = (statistics.median(x) for x in zip(*times))
    results["payroll_xlsx_rows"] = len(items)
    results["payroll_xlsx_s"], results["payroll_xlsx_cpu_s"] = round(dt, 2), round(dc, 2)
    print(f"payroll XLSX, {len(items):,} rows (+ export record): {dt:.2f} s (CPU {dc:.2f}; target ≤ 5 s)")
    if args.lists_only:
        _save(results)
        return

    from desktop.services.dashboards import DashboardService

    svc = DashboardService(db)
    times = []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        cov = svc.coverage(TODAY)
        first = time.perf_counter() - t
        svc.build(TODAY, coverage=cov)
        times.append((first, time.perf_counter() - t, time.process_time() - c))
    first, dt, dc = (statistics.median(x) for x in zip(*times))
    results["dashboard_coverage_s"] = round(first, 3)
    results["dashboard_s"] = round(dt, 2)
    results["dashboard_cpu_s"] = round(dc, 2)
    print(f"dashboard over {args.entitlements:,} entitlements: coverage chart {first:.3f} s, all {dt:.2f} s "
          f"(CPU {dc:.2f}; median of 3)")
    _save(results)


def _save(results: dict) -> None:
    results["load"] = [round(x, 1) for x in os.getloadavg()]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "lists.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
