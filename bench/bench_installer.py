"""Installer benchmark: bundle size and start-up time of the frozen app to a usable main window.
Prints numbers (and writes bench/results/installer.json).

    scripts/build.sh --no-pack && uv run python bench/bench_installer.py
    uv run python bench/bench_installer.py --build          # build into dist/ first
    uv run python bench/bench_installer.py --bundle /path/to/certdesk --runs 5

Targets (issue 10): bundle ≤ 600 MB; the main window usable ≤ 5 s after a cold start.

"Usable" is the moment the window has its database (``--exit-when-ready`` prints
"window shown …, usable …" on stderr then); the time measured here is the wall clock from launching
the executable to that line, so it includes the bootloader unpacking nothing (one-folder build),
the interpreter start, imports, Qt start-up and opening/migrating the database. The app runs in a
clean environment (env -i: PATH only), offscreen, with a fresh CERTDESK_HOME:

* cold: the OS page cache is dropped first (``/proc/sys/vm/drop_caches``, needs root; reported
  as not dropped where that is refused, e.g. in a container) and a new database is created;
* warm: again with a fresh home (new database, migrations run) and with an existing home.
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
SIZE_TARGET_MB = 600
START_TARGET_S = 5.0


def bundle_size_mb(path: Path) -> tuple[float, int]:
    total, files = 0, 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
            files += 1
    return total / 2**20, files


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def start_once(bundle: Path, home: Path, timeout: float = 60) -> dict:
    env = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "CERTDESK_HOME": str(home)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(bundle / "certdesk"), "--exit-when-ready"], env=env, cwd=home.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    usable_wall = None
    reported = None
    assert proc.stderr is not None
    import threading

    # a window that never becomes usable must fail the benchmark, not hang it
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    for raw in proc.stderr:  # stream: stop the clock at the line, not at process exit
        line = raw.decode("utf-8", "replace")
        if "usable" in line and usable_wall is None:
            usable_wall = time.perf_counter() - t0
            try:
                reported = float(line.split("usable", 1)[1].split("s", 1)[0])
            except ValueError:
                reported = None
    code = proc.wait(timeout=timeout)
    watchdog.cancel()
    exit_wall = time.perf_counter() - t0
    if code != 0 or usable_wall is None:
        raise SystemExit(f"the window did not become usable within {timeout:.0f} s (exit {code}); "
                         f"run the bundle by hand to see why")
    return {"usable_s": round(usable_wall, 3), "exit_s": round(exit_wall, 3),
            "usable_after_ui_import_s": reported}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(ROOT / "dist" / "certdesk"))
    ap.add_argument("--build", action="store_true", help="run PyInstaller first (uv run --with pyinstaller)")
    ap.add_argument("--runs", type=int, default=3, help="warm runs of each kind")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "installer.json"))
    args = ap.parse_args()
    bundle = Path(args.bundle).resolve()

    result: dict = {"machine": {"cpus": os.cpu_count(), "platform": sys.platform}}
    if args.build:
        t0 = time.perf_counter()
        subprocess.run(["uv", "run", "--with", "pyinstaller>=6.10,<7", "pyinstaller", "--noconfirm",
                        "--distpath", str(bundle.parent), "--workpath", str(ROOT / "build"),
                        str(ROOT / "installer.spec")], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result["build_s"] = round(time.perf_counter() - t0, 1)
        print(f"build: {result['build_s']} s")
    if not (bundle / "certdesk").is_file():
        raise SystemExit(f"no bundle at {bundle}: run scripts/build.sh or pass --build")

    size, files = bundle_size_mb(bundle)
    result["size_mb"] = round(size, 1)
    result["files"] = files
    print(f"bundle size: {size:.1f} MB ({files} files)  target ≤ {SIZE_TARGET_MB} MB  "
          f"{'OK' if size <= SIZE_TARGET_MB else 'OVER'}")

    with tempfile.TemporaryDirectory(prefix="certdesk-bench-") as tmp:
        tmpdir = Path(tmp)
        dropped = drop_caches()
        cold = start_once(bundle, tmpdir / "cold")
        result["cold"] = {**cold, "page_cache_dropped": dropped}
        print(f"cold start (page cache {'dropped' if dropped else 'NOT dropped'}, new database): "
              f"usable {cold['usable_s']:.2f} s  target ≤ {START_TARGET_S:.0f} s  "
              f"{'OK' if cold['usable_s'] <= START_TARGET_S else 'OVER'}")
        fresh = [start_once(bundle, tmpdir / f"fresh{i}") for i in range(args.runs)]
        again = [start_once(bundle, tmpdir / "cold") for _ in range(args.runs)]
        for name, runs in (("warm, new database", fresh), ("warm, existing database", again)):
            vals = [r["usable_s"] for r in runs]
            key = "warm_new_db" if "new" in name else "warm_existing_db"
            result[key] = {"usable_s_median": round(statistics.median(vals), 3), "runs": runs}
            print(f"{name}: usable median {statistics.median(vals):.2f} s "
                  f"(min {min(vals):.2f}, max {max(vals):.2f}; n={len(vals)})")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    ok = size <= SIZE_TARGET_MB and result["cold"]["usable_s"] <= START_TARGET_S
    print(f"written {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
