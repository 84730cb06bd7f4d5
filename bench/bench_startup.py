"""Launch → usable main window (database open, login dialog shown), measured from outside.

    uv run python bench/bench_startup.py [--runs 5] [--no-bytecode-cache]

An installed app has its bytecode compiled; this sandbox sets PYTHONDONTWRITEBYTECODE=1, so by
default the benchmark gives the interpreter a private cache (PYTHONPYCACHEPREFIX) to measure what
a counter PC sees; ``--no-bytecode-cache`` measures the recompile-everything case too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(runs: int, cache: bool) -> list[float]:
    home = tempfile.mkdtemp(prefix="certdesk-start-")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CERTDESK_HOME=home)
    if cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "certdesk-pyc")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    exe = [sys.executable, "-m", "ui", "--exit-when-ready"]
    subprocess.run(exe, cwd=ROOT, env=env, capture_output=True, timeout=120)  # first start: migrations, caches
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(exe, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for line in p.stderr:
            if "usable" in line:
                times.append(time.perf_counter() - t)
                break
        p.wait(timeout=120)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-bytecode-cache", action="store_true")
    args = ap.parse_args()
    out = {"with_bytecode_cache_s": [round(x, 2) for x in measure(args.runs, True)]}
    if args.no_bytecode_cache:
        out["without_bytecode_cache_s"] = [round(x, 2) for x in measure(args.runs, False)]
    for key in list(out):
        out[key.replace("_s", "_median_s")] = round(statistics.median(out[key]), 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
