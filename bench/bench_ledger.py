"""Payment-ledger benchmark (issue 14): a payroll month over N entitlements with history.

Builds the foundation bench's roster (or reuses ``--db``), records the runs of 2026-12, 2027-01
and 2027-02 (so suspensions, and their instructions, exist), then lets facts arrive late:
certifications for a fifth of the suspended persons, and deaths (some before the last runs, so
recoveries are due). Times the recorded run of 2027-03 — the ledger's full path: gathering every
instruction and demand, planning, writing — and the ledger of single persons.

    uv run python bench/bench_ledger.py --entitlements 1000000 [--db sqlite:///…] [--json]

Target: a payroll month over 1,000,000 entitlements in ≤ 10 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import ACTOR, TODAY, rss_mb, write_roster  # noqa: E402

from desktop.domain.months import Month  # noqa: E402


def _reset_peak_rss() -> None:
    """Linux: VmHWM starts again from the current RSS (writing 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


def main() -> None:
    from sqlalchemy import text

    from db.models import new_id
    from desktop.services.database import Database
    from desktop.services.imports import ImportService
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService

    ap = argparse.ArgumentParser()
    ap.add_argument("--entitlements", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=200_000)
    ap.add_argument("--db", default=None, help="reuse a foundation bench database (no runs recorded yet)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--go-live", action="store_true",
                    help="issue 20's go-live month: last certifications spread over 2025–2026, one recorded run "
                         "of 2026-12 that instructs ~60 %% of the roster")
    ap.add_argument("--encrypted", action="store_true", help="the database encrypted as installed (SQLCipher)")
    ap.add_argument("--per-entitlement", action="store_true",
                    help="every entitlement through the ledger (PayrollService.set_wise = False): the comparison")
    args = ap.parse_args()
    if not args.encrypted:  # like the earlier figures (a memory key would die with the process anyway)
        from db import engine as db_engine

        db_engine.set_key_provider(None)
    rng = random.Random(7)
    workdir = Path(tempfile.mkdtemp(prefix="certdesk-bench-ledger-"))
    url = args.db or f"sqlite:///{workdir / 'bench.sqlite'}"
    db = Database.open(url)
    out: dict = {"entitlements": args.entitlements}
    if not args.db:
        done = 0
        while done < args.entitlements:
            n = min(args.chunk, args.entitlements - done)
            path = workdir / "chunk.csv"
            write_roster(path, done, n, rng)
            ImportService(db).import_roster(path, ACTOR, today=TODAY)
            done += n
            print(f"  imported {done:,}", file=sys.stderr, flush=True)

    pay = PayrollService(db, SettingsService(db))
    pay.set_wise = not args.per_entitlement
    out["set_wise"] = pay.set_wise
    if args.go_live:
        with db.engine.begin() as conn:  # last certifications spread evenly over 2025-01 … 2026-11
            ids = [r[0] for r in conn.execute(text("select id from certifications"))]
            raw = conn.connection.driver_connection
            for k in range(0, len(ids), 50_000):  # in parts: the run's peak memory, not this set-up's
                raw.executemany("update certifications set cert_date=? where id=?",
                                [((date(2025, 1, 1) + timedelta(days=rng.randint(0, 697))).isoformat(), i)
                                 for i in ids[k:k + 50_000]])
            del ids
        runs, cpu = [], []
        _reset_peak_rss()  # the runs' own peak, not the import's or the set-up's
        r = None
        for _ in range(3):
            r = None  # one run's answer alive at a time (a caller prints it and lets it go)
            with db.engine.begin() as conn:  # the same first run three times (median)
                conn.execute(text("delete from entitlement_events"))
                conn.execute(text("delete from payroll_runs"))
                conn.execute(text("delete from outbox"))
            t, c = time.perf_counter(), time.process_time()
            r = pay.run(Month(2026, 12), ACTOR)
            runs.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        # the command's JSON answer (certdesk payroll --json streams it), written to a file
        from desktop.cli import emit_stream

        t, c = time.perf_counter(), time.process_time()
        with open(workdir / "answer.json", "w", encoding="utf-8") as fh:
            emit_stream(r.as_json(), out=fh)
        out["go_live_answer_json_s"] = round(time.perf_counter() - t, 2)
        out["go_live_answer_json_cpu_s"] = round(time.process_time() - c, 2)
        out["go_live_answer_json_mb"] = round((workdir / "answer.json").stat().st_size / 1e6)
        out["go_live_run_s"] = round(statistics.median(runs), 2)
        out["go_live_runs_s"] = [round(x, 2) for x in runs]
        out["go_live_cpu_s"] = round(statistics.median(cpu), 2)  # the process's own CPU time (load-independent)
        out["go_live_instructions"] = len(r.suspend) + len(r.resume) + len(r.terminate)
        out["payroll_max_rss_mb"] = round(rss_mb())
        out["runs_peak_rss_mb"] = _peak_rss_mb()
        out["load"] = [round(x, 1) for x in os.getloadavg()]
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return
    history = {}
    for m in (Month(2026, 12), Month(2027, 1), Month(2027, 2)):
        t = time.perf_counter()
        r = pay.run(m, ACTOR)
        history[str(m)] = {"s": round(time.perf_counter() - t, 2), "suspend": len(r.suspend),
                           "resume": len(r.resume), "terminate": len(r.terminate)}
        print(f"  run {m}: {history[str(m)]}", file=sys.stderr, flush=True)
    out["history_runs"] = history

    # late facts: on-time certifications for a fifth of the suspended, deaths for 0.3 % of persons
    with db.engine.begin() as conn:
        suspended = [r[0] for r in conn.execute(text("select distinct person_id from entitlements "
                                                     "where status='suspended'"))]
        persons = [r[0] for r in conn.execute(text("select id from persons"))]
        late = rng.sample(suspended, len(suspended) // 5)
        conn.execute(text("insert into certifications (id, person_id, cert_date, method, result, created_at) "
                          "values (:id, :p, :d, 'mobile_app', 'passed', '2027-02-20 00:00:00')"),
                     [{"id": new_id(), "p": p, "d": "2027-02-15"} for p in late])
        dead = rng.sample(persons, len(persons) * 3 // 1000)
        conn.execute(text("update persons set death_date=:d where id=:p"),
                     [{"p": p, "d": date(2026, rng.randint(9, 12), 10).isoformat()} for p in dead])
    out["late_certifications"] = len(late)
    out["late_deaths"] = len(dead)

    t, c = time.perf_counter(), time.process_time()
    r = pay.run(Month(2027, 3), ACTOR)
    out["payroll_s"] = round(time.perf_counter() - t, 2)
    out["payroll_cpu_s"] = round(time.process_time() - c, 2)
    out["payroll_items"] = {k: len(getattr(r, k)) for k in ("suspend", "resume", "terminate", "recover", "corrections")}
    out["payroll_max_rss_mb"] = round(rss_mb())
    t, c = time.perf_counter(), time.process_time()
    again = pay.run(Month(2027, 3), ACTOR)
    out["rerun_s"] = round(time.perf_counter() - t, 2)
    out["rerun_cpu_s"] = round(time.process_time() - c, 2)
    out["rerun_same_answer"] = again.as_json() == r.as_json()

    with db.engine.connect() as conn:
        sample = [r[0] for r in conn.execute(text("select id_number from persons order by random() limit 100"))]
    times = []
    for n in sample:
        t = time.perf_counter()
        pay.ledger(n, Month(2027, 3), as_of=date(2027, 3, 2))
        times.append((time.perf_counter() - t) * 1000)
    out["ledger_ms_median"] = round(statistics.median(times), 1)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.json:
        (Path(__file__).parent / "results" / f"ledger-{args.entitlements}.json").write_text(
            json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
