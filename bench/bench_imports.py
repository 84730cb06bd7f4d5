"""Import reading speed through the one reader (issue 21 §3) and the hostile corpus refused within
bounded memory (issue 16 §3). Numbers, not a timed test; results in bench/README.md.

    uv run python bench/bench_imports.py [--rows 50000] [--repeat 3] [--skip-speed] [--skip-hostile]

Speed: the roster's read-and-validate step (``iter_roster_chunks``: reading, header, mapping,
full validation of every row — what the reading process does during an import) over the same
people as CSV (UTF-8, GBK), XLSX and (≤ 65,535 rows) XLS, with today's reader and with the
reader of before issue 21 (``desktop/formats/tabular.py`` at ``BASELINE``: whole-file decode for CSV,
openpyxl read-only for XLSX, no .xls at all), wall and CPU time (median of ``--repeat``). Then one
whole import (CSV, second process, SQLite) with today's reader.

Hostile: every file of tests/desktop/test_hostile_files.py's corpus, plus issue 16's 80 MB of
shared strings in a small xlsx and its CSV of one 50 MB line, imported by a fresh process each;
the process's peak RSS (VmHWM), wall time, the refusal code. The baseline: the same process
importing nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "desktop"))
BASELINE = "cb6dfb7"  # the commit before the new reader (desktop/formats/tabular.py read CSV and XLSX itself)
TODAY = date(2026, 11, 29)


def people(n: int) -> list[list]:
    from desktop.domain.idnumber import make_number

    cohorts = ["企业离退休人员", "城乡居民养老保险待遇领取人员", "企业职工遗属", "机关事业单位退休人员"]
    out = []
    for i in range(n):
        number = make_number("152202", date(1940 + i % 30, 1 + i % 12, 1 + i % 28), i % 999 + 1)
        name = "测试" + "".join("零一二三四五六七八九"[int(c)] for c in f"{i:06d}")  # names carry no digits
        out.append([name, number, cohorts[i % 4], f"20{10 + i % 15}-0{1 + i % 9}-01",
                    f"2026-0{1 + i % 9}-15", f"139{i:08d}", "阿尔山市林海街道", "本地", f"{1500 + i % 900}"])
    # unique ID numbers: the birth date and sequence repeat, so make the sequence unique per birth date
    seen, unique = set(), []
    for i, p in enumerate(out):
        if p[1] not in seen:
            seen.add(p[1])
            unique.append(p)
    return unique


def write_files(rows: list[list], folder: Path) -> dict[str, Path]:
    import csv

    import openpyxl

    from desktop.formats.roster_rows import ROSTER_COLUMNS

    files = {}
    for name, enc in (("csv-utf8", "utf-8"), ("csv-gbk", "gbk")):
        path = folder / f"{name}.csv"
        with path.open("w", encoding=enc, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ROSTER_COLUMNS)
            w.writerows(rows)
        files[name] = path
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append(ROSTER_COLUMNS)
    for r in rows:
        ws.append(r)
    files["xlsx"] = folder / "r.xlsx"
    wb.save(files["xlsx"])
    if len(rows) < 65_535:
        import xlwt

        wb = xlwt.Workbook(encoding="utf-8")
        ws = wb.add_sheet("花名册")
        for c, h in enumerate(ROSTER_COLUMNS):
            ws.write(0, c, h)
        for i, r in enumerate(rows, start=1):
            for c, v in enumerate(r):
                ws.write(i, c, v)
        files["xls"] = folder / "r.xls"
        wb.save(str(files["xls"]))
    return files


def old_reader():
    """desktop/formats/tabular.py as it was at BASELINE, loaded beside today's modules."""
    source = subprocess.run(["git", "show", f"{BASELINE}:desktop/formats/tabular.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "tabular_old.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("tabular_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tabular_old"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def read_validate(path: Path) -> int:
    from desktop.formats.roster_rows import iter_roster_chunks

    return sum(len(c) for c in iter_roster_chunks(path, TODAY, 2500))


def timed(fn, repeat: int) -> dict:
    return paired({"new": fn}, repeat)["new"]


def paired(fns: dict, repeat: int) -> dict:
    """Each function ``repeat`` times, taking turns (so a change of load hits both alike);
    median wall and CPU seconds of each."""
    runs: dict[str, list] = {k: [] for k in fns}
    result = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            result[name] = fn()
            runs[name].append((time.perf_counter() - w, time.process_time() - c))
    return {k: {"wall_s": round(statistics.median(r[0] for r in v), 3),
                "cpu_s": round(statistics.median(r[1] for r in v), 3), "result": result[k]} for k, v in runs.items()}


def speed(n: int, repeat: int) -> dict:
    import desktop.formats.roster_rows as rr

    folder = Path(tempfile.mkdtemp())
    rows = people(n)
    files = write_files(rows, folder)
    old = old_reader()
    new_read = rr.read_table
    out = {"rows": len(rows), "sizes_mb": {k: round(p.stat().st_size / 2**20, 2) for k, p in files.items()}}
    def with_old(path):
        rr.read_table = lambda p, req, opt=(), mapping=None: old.read_table(p, req, opt)
        try:
            return read_validate(path)
        finally:
            rr.read_table = new_read

    for name, path in files.items():
        fns = {"new": lambda: read_validate(path)}
        if name != "xls":
            fns["old"] = lambda: with_old(path)
        t = paired(fns, repeat)
        entry = {"new": t["new"], "new_rows_per_s": round(len(rows) / t["new"]["wall_s"])}
        if "old" in t:
            entry.update(old=t["old"], old_rows_per_s=round(len(rows) / t["old"]["wall_s"]),
                         cpu_ratio_old_to_new=round(t["old"]["cpu_s"] / t["new"]["cpu_s"], 2))
        else:
            entry["old"] = "refused (.xls was not readable)"
        out[name] = entry
    # one whole import with today's reader (a second process reads, this one writes)
    from desktop.services.database import Database
    from desktop.services.imports import ImportService
    from desktop.platform.workstation import Actor

    db = Database.open(f"sqlite:///{folder / 'bench.sqlite'}")
    t = timed(lambda: ImportService(db).import_roster(files["csv-utf8"], Actor("bench", "ws", "admin"),
                                                      today=TODAY).imported, 1)
    out["full_import_csv"] = {**t, "rows_per_s": round(len(rows) / t["wall_s"])}
    db.dispose()
    return out


CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from desktop.errors import UserFacingError
from desktop.services.database import Database
from desktop.services.imports import ImportService
from desktop.platform.workstation import Actor
from datetime import date
db = Database.open("sqlite:///" + sys.argv[2])
t = time.perf_counter()
code = None
if sys.argv[1] != "-":
    try:
        ImportService(db).import_roster(sys.argv[1], Actor("bench", "ws", "admin"), today=date(2026, 11, 29))
        code = "imported"
    except UserFacingError as exc:
        code = exc.code
# VmHWM: this process's own peak (ru_maxrss would carry the forking parent's peak over exec)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({{"code": code, "wall_s": round(time.perf_counter() - t, 3), "rss_mb": round(hwm / 1024, 1)}}))
"""


def shared_strings_80mb() -> bytes:
    """Issue 16's file: a small xlsx whose sharedStrings.xml inflates to 80 MB."""
    import io
    import zipfile

    from test_hostile_files import small_xlsx

    src = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                zf.writestr(info.filename, src.read(info))
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            item = b"<si><t>" + "阿尔山".encode() * 300 + b"</t></si>"
            for _ in range(80 * 2**20 // len(item)):
                fh.write(item)
            fh.write(b"</sst>")
    return out.getvalue()


def hostile() -> dict:
    from test_hostile_files import CORPUS

    folder = Path(tempfile.mkdtemp())
    corpus = {name: make for name, (make, _) in CORPUS.items()}
    corpus["shared_strings_80mb.xlsx"] = shared_strings_80mb
    corpus["one_line_50mb.csv"] = lambda: b"x" * (50 * 2**20)  # issue 16: took 633 MB before
    script = CHILD.format(root=str(ROOT))
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def run(path: str) -> dict:
        db = folder / f"{Path(path).name}.sqlite"
        r = subprocess.run([sys.executable, "-c", script, path, str(db)], capture_output=True, text=True, env=env,
                           timeout=600)
        if r.returncode != 0:
            return {"crashed": r.stderr[-400:]}
        return json.loads(r.stdout.strip().splitlines()[-1])

    out = {"baseline (no file)": run("-")}
    for name, make in corpus.items():
        path = folder / name
        path.write_bytes(make())
        out[name] = {"size_kb": round(path.stat().st_size / 1024, 1), **run(str(path))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-hostile", action="store_true")
    args = ap.parse_args()
    doc = {"load_average": os.getloadavg()}
    if not args.skip_speed:
        doc["speed"] = speed(args.rows, args.repeat)
    if not args.skip_hostile:
        doc["hostile"] = hostile()
    doc["load_average_after"] = os.getloadavg()
    doc["peak_rss_mb_bench"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "imports.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
