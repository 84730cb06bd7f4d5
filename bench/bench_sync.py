"""Sync benchmark: push N offline certifications from one workstation to a throw-away central
PostgreSQL 15, then pull them on a second workstation. Prints numbers (not a timed test).

    uv run python bench/bench_sync.py --certifications 10000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CERTDESK_MODE", "test")

from tests.sync.conftest import PG_BIN, PgCluster, _as_pg_user, _free_port  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--certifications", type=int, default=10_000)
    ap.add_argument("--persons", type=int, default=2_000)
    args = ap.parse_args()
    import subprocess

    from desktop.domain.idnumber import make_number
    from desktop.services.database import Database
    from desktop.services.imports import ROSTER_COLUMNS, ImportService
    from desktop.services.persons import PersonService
    from desktop.services.sync import SyncService
    from desktop.platform.workstation import Actor

    root = Path(tempfile.mkdtemp(prefix="certdesk-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PgCluster(root, _free_port())
    subprocess.run(_as_pg_user([str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "-A", "trust",
                                "-E", "UTF8", "--no-locale", "--no-sync"]), check=True, capture_output=True)
    cluster.start()
    results: dict = {"certifications": args.certifications}
    try:
        central = cluster.create_database("bench")
        work = Path(tempfile.mkdtemp(prefix="certdesk-bench-ws-"))
        a = Database.open(f"sqlite:///{work / 'a.sqlite'}")
        b = Database.open(f"sqlite:///{work / 'b.sqlite'}")
        roster = work / "roster.csv"
        with roster.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ROSTER_COLUMNS)
            for i in range(args.persons):
                w.writerow(["王桂兰", make_number("152202", date(1940, 1, 1) + timedelta(days=i), 1), "企业离退休人员",
                            "2012-05-01", "2026-01-01", "", "", "本地", "2000"])
        sup = Actor("bench", "ws-a", "supervisor")
        ImportService(a).import_roster(roster, sup, today=date(2026, 11, 29))
        t = time.perf_counter()
        SyncService(a, central, "ws-a").sync_once()
        results["initial_roster_push_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        SyncService(b, central, "ws-b").sync_once()
        results["initial_roster_pull_s"] = round(time.perf_counter() - t, 2)

        people = PersonService(a)
        ids = [p.id for p in people.search("王", limit=args.persons)]
        rng = random.Random(1)
        clerk = Actor("clerk", "ws-a", "clerk")
        for _ in range(args.certifications):
            people.record_certification(rng.choice(ids), date(2026, 11, 29) - timedelta(days=rng.randint(0, 200)),
                                        "counter", clerk, today=date(2026, 11, 29))
        t = time.perf_counter()
        pushed = SyncService(a, central, "ws-a").sync_once()
        results["push_s"] = round(time.perf_counter() - t, 2)
        results["pushed"] = pushed.pushed
        t = time.perf_counter()
        pulled = SyncService(b, central, "ws-b").sync_once()
        results["pull_s"] = round(time.perf_counter() - t, 2)
        results["pulled"] = pulled.pulled
        t = time.perf_counter()
        again = SyncService(b, central, "ws-b").sync_once()
        results["noop_sync_s"] = round(time.perf_counter() - t, 3)
        results["noop_pushed_pulled"] = [again.pushed, again.pulled]
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(results, indent=1))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "sync.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
