"""What encrypting the local database costs (issue 16): roster import and payroll, plaintext
SQLite versus SQLCipher (db/encryption.py), on the same roster, alternating, median of repeats.

    uv run python bench/bench_encryption.py --rows 100000 --repeat 3 [--json]

Target: import and payroll within 15 % of plaintext. Wall time AND CPU time are reported (the
machine is shared: CPU time is this process's own, plus the import's reading process), and the
load average. Runs in test mode: the simulation key (desktop/platform/keystore.py) costs exactly what an
OS-store key costs — SQLCipher never sees where the key came from. Writes
bench/results/encryption.json.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CERTDESK_HOME", tempfile.mkdtemp(prefix="certdesk-bench-enc-"))
os.environ.setdefault("CERTDESK_MODE", "test")

from bench.bench_foundation import ACTOR, TODAY, write_roster  # noqa: E402


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def one(mode: str, roster: Path, workdir: Path, rows: int) -> dict:
    from db import engine as db_engine
    from desktop.domain.months import Month
    from desktop.services.database import Database, database_key
    from desktop.services.imports import ImportService
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService

    db_engine.set_key_provider(database_key if mode == "encrypted" else None)
    folder = Path(tempfile.mkdtemp(prefix=f"{mode}-", dir=workdir))
    db = Database.open(f"sqlite:///{folder / 'bench.sqlite'}")
    try:
        assert db_engine.is_encrypted(db.engine) == (mode == "encrypted")
        out: dict = {}
        t, c = time.perf_counter(), cpu()
        report = ImportService(db).import_roster(roster, ACTOR, today=TODAY)
        out["import_s"], out["import_cpu_s"] = time.perf_counter() - t, cpu() - c
        assert report.imported == rows and not report.rejected
        # payroll as `certdesk payroll` runs it: another process, its page cache cold (a plaintext
        # file still sits in the OS cache; an encrypted page must be decrypted again)
        import gc
        import threading

        for th in threading.enumerate():
            if th.name == "sqlite-checkpoint":
                th.join()
        db.dispose()
        gc.collect()
        db = Database.open(f"sqlite:///{folder / 'bench.sqlite'}")
        t, c = time.perf_counter(), cpu()
        PayrollService(db, SettingsService(db)).run(Month(2026, 12), ACTOR, record=False)
        out["payroll_preview_s"], out["payroll_preview_cpu_s"] = time.perf_counter() - t, cpu() - c
        t, c = time.perf_counter(), cpu()
        PayrollService(db, SettingsService(db)).run(Month(2026, 12), ACTOR, record=True)
        out["payroll_run_s"], out["payroll_run_cpu_s"] = time.perf_counter() - t, cpu() - c
        return out
    finally:
        db.dispose()
        db_engine.set_key_provider(database_key)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="certdesk-bench-enc-db-"))
    roster = workdir / "roster.csv"
    write_roster(roster, 0, args.rows, random.Random(1))
    runs: dict[str, list[dict]] = {"plaintext": [], "encrypted": []}
    load_before = os.getloadavg()
    for i in range(args.repeat):
        order = ("plaintext", "encrypted") if i % 2 == 0 else ("encrypted", "plaintext")
        for mode in order:
            runs[mode].append(one(mode, roster, workdir, args.rows))
            if not args.json:
                r = runs[mode][-1]
                print(f"  {mode:9} import {r['import_s']:.2f} s (cpu {r['import_cpu_s']:.2f}), "
                      f"payroll preview {r['payroll_preview_s']:.2f} s (cpu {r['payroll_preview_cpu_s']:.2f}), "
                      f"run {r['payroll_run_s']:.2f} s (cpu {r['payroll_run_cpu_s']:.2f})", flush=True)
    med = {m: {k: round(statistics.median(r[k] for r in rs), 3) for k in rs[0]} for m, rs in runs.items()}
    ratio = {k: round(med["encrypted"][k] / med["plaintext"][k], 3) for k in med["plaintext"]}
    from db.encryption import dbapi

    result = {"rows": args.rows, "repeat": args.repeat, "median": med, "encrypted_over_plaintext": ratio,
              "within_15_percent": {k: v <= 1.15 for k, v in ratio.items()},
              "sqlcipher": dbapi().connect(":memory:").execute("PRAGMA cipher_version").fetchone()[0],
              "loadavg_before": [round(x, 2) for x in load_before],
              "loadavg_after": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "encryption.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
