"""Foundation benchmark: roster import rate, payroll month over N entitlements, look-up by ID
number, command start-up. Prints numbers (and writes bench/results/foundation.json).

    uv run python bench/bench_foundation.py --entitlements 1000000

Targets (issue 2, 2-core machine): import ≥ 30,000 rows/s with full validation; payroll month
over 1,000,000 entitlements ≤ 10 s and ≤ 1 GB; look-up by ID number ≤ 5 ms; a command that opens
no window starts in ≤ 1 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CERTDESK_HOME", tempfile.mkdtemp(prefix="certdesk-bench-"))
os.environ.setdefault("CERTDESK_MODE", "test")  # the simulation database key: no OS key store needed (issue 16)

# Light modules only at the top: the roster import's reading process (multiprocessing "spawn")
# re-imports this script as __mp_main__, and the services (SQLAlchemy …) are imported in main()
# so that start-up is what it is for the real `certdesk` entry point, not this harness.
from desktop.domain.idnumber import make_number  # noqa: E402
from desktop.domain.months import Month  # noqa: E402
from desktop.formats.roster_rows import ROSTER_COLUMNS  # noqa: E402
from desktop.domain.rules import COHORTS  # noqa: E402
from desktop.platform.workstation import Actor  # noqa: E402

TODAY = date(2026, 11, 29)
REGIONS = ["152201", "152202", "152221", "152222", "152223", "152224", "150102", "150203"]
ACTOR = Actor("bench", "bench-ws", "admin")
# the cycle of each cohort in COHORTS order (retirees 12 months, resident pension half-year,
# survivors 1 month, injury half-year), in days
CYCLE_DAYS = [365, 365, 182, 30, 182, 182]


def write_roster(path: Path, start: int, count: int, rng: random.Random) -> list[str]:
    cohorts = [c.name_zh for c in COHORTS.values()]
    numbers = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        for i in range(start, start + count):
            # unique numbers: region × birth date × sequence
            region = REGIONS[i % len(REGIONS)]
            birth = date(1930, 1, 1) + timedelta(days=(i // len(REGIONS)) % 12000)
            seq = (i // (len(REGIONS) * 12000)) + 1
            number = make_number(region, birth, seq)
            numbers.append(number)
            # most residents certify within their cycle; ~5 % are overdue (a realistic payroll month)
            cycle = CYCLE_DAYS[i % 6]
            if rng.random() < 0.95:
                last = TODAY - timedelta(days=rng.randint(0, int(cycle * 0.9)))
            else:
                last = TODAY - timedelta(days=rng.randint(cycle + 1, cycle + 200))
            w.writerow(["王桂兰", number, cohorts[i % 6], "2012-05-01", last.isoformat(), "13900000000",
                        "阿尔山市林海街道", "本地" if i % 5 else "异地", str(1000 + i % 3000)])
    return numbers


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from desktop.services.database import Database
    from desktop.services.imports import ImportService
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService
    from desktop.services.persons import PersonService

    ap = argparse.ArgumentParser()
    ap.add_argument("--entitlements", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="reuse an existing bench database")
    args = ap.parse_args()
    rng = random.Random(1)
    workdir = Path(tempfile.mkdtemp(prefix="certdesk-bench-db-"))
    url = args.db or f"sqlite:///{workdir / 'bench.sqlite'}"
    db = Database.open(url)
    results: dict = {"entitlements": args.entitlements}

    numbers: list[str] = []
    import_rates = []
    if not args.db:
        done = 0
        while done < args.entitlements:
            n = min(args.chunk, args.entitlements - done)
            path = workdir / "chunk.csv"
            numbers += write_roster(path, done, n, rng)
            t = time.perf_counter()
            report = ImportService(db).import_roster(path, ACTOR, today=TODAY)
            dt = time.perf_counter() - t
            assert report.imported == n and not report.rejected, report.as_json()
            import_rates.append(n / dt)
            done += n
            print(f"  imported {done:,} rows ({n / dt:,.0f} rows/s)", flush=True)
        results["import_rows_per_s"] = round(statistics.median(import_rates))
    else:
        numbers = [make_number(REGIONS[0], date(1930, 1, 1), 1)]

    t, c = time.perf_counter(), time.process_time()
    res = PayrollService(db, SettingsService(db)).run(Month(2026, 12), ACTOR, record=False)
    results["payroll_s"] = round(time.perf_counter() - t, 2)
    results["payroll_cpu_s"] = round(time.process_time() - c, 2)  # own CPU time (the machine is shared)
    results["payroll_items"] = {k: len(getattr(res, k)) for k in ("suspend", "resume", "terminate", "recover")}
    results["payroll_max_rss_mb"] = round(rss_mb())

    people = PersonService(db)
    sample = rng.sample(numbers, min(200, len(numbers)))
    times = []
    for n in sample:
        t = time.perf_counter()
        people.show(n, TODAY)
        times.append((time.perf_counter() - t) * 1000)
    results["lookup_ms_median"] = round(statistics.median(times), 2)
    results["lookup_ms_p95"] = round(sorted(times)[int(len(times) * 0.95) - 1], 2)

    starts = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ui", "--db", url, "idcard", "check", numbers[0], "--json"],
                       cwd=ROOT, check=True, capture_output=True)
        starts.append(time.perf_counter() - t)
    results["cli_start_s_median"] = round(statistics.median(starts), 3)
    # person show signs in (issue 15): a bench account, its password from the environment
    import os

    from desktop.services.operators import OperatorService

    OperatorService(db).ensure_admin("bench-ws", "Bench2026x", must_change=False)
    env = {**os.environ, "CERTDESK_OPERATOR": "admin", "CERTDESK_PASSWORD": "Bench2026x"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ui", "--db", url, "person", "show", numbers[0], "--json", "--as-of", "2026-11-29"],
                   cwd=ROOT, check=True, capture_output=True, env=env)
    results["cli_person_show_s"] = round(time.perf_counter() - t, 3)  # includes checking the password (argon2id)

    print(json.dumps(results, ensure_ascii=False, indent=1))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"foundation-{args.entitlements}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
