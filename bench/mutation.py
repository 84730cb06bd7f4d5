"""Mutation testing of the money rules (issue 22): how many small slips the tests catch.

    uv run python bench/mutation.py [--json] [--incremental] [--max-children 2] [--only GLOB ...]
                                    [--report-only] [--fail-under 90]

Runs mutmut 3 (configured in ``pyproject.toml``, ``[tool.mutmut]``: the files, the test subset,
the pytest options) over the calendar, the clock, the ID numbers, the payment ledger and the
payroll service, the ledger's queries, the certification queries (``db/certification_queries.py``)
and the results import (``desktop/services/results_import.py``); inside a file that holds much
else, only the functions :data:`FUNCTIONS` names (the row-to-person check the results import and
the death lists share). Prints ``{"mutants",
"killed", "survived", "timeout", "score", "by_module", "survivors", ...}``; ``score`` = (killed + timeout) / (mutants − equivalent).

Where it runs: a staging copy of the sources and tests (on ``/dev/shm`` when there is one:
SQLite files and pytest's temporary directories on tmpfs), never in the work tree — so no
``mutants/`` directory is left where ``pytest`` or a commit could pick it up. In the staging copy
the functions of a shared file (:data:`FUNCTIONS`) that are not money rules get mutmut's
``# pragma: no mutate block`` (the work tree is not touched). The default is a fresh run (the
staging directory is rebuilt: the number measures the whole thing); ``--incremental`` keeps
mutmut's cache, which re-tests only mutants of changed functions.

Equivalent mutants (no behaviour can differ) are listed in ``bench/mutation_equivalent.json``
with the reason, matched by function and changed lines (not by mutant number, which moves when a
function changes), and are not counted; survivors listed there as ``accepted`` are counted but
shown with the reason. The result is also written to ``bench/results/mutation.json``.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = ROOT / "bench" / "mutation_equivalent.json"
RESULT_FILE = ROOT / "bench" / "results" / "mutation.json"

# Files that hold much besides the money rules: only these functions are mutated (the rest of
# each file gets ``# pragma: no mutate block`` in the staging copy). Every other file listed in
# [tool.mutmut] only_mutate is mutated whole.
FUNCTIONS: dict[str, set[str]] = {
    # since issue 18 the certification queries (db/certification_queries.py) and the results
    # import (desktop/services/results_import.py) have files of their own, mutated whole; the
    # check of a row's number and name, shared with the death lists, lives with the imports' report
    "desktop/services/import_batch.py": {"person_of_row"},
}

COPY_DIRS = ("desktop", "db", "tests", "resources")
COPY_FILES = ("pyproject.toml", "setup.cfg", "uv.lock")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache", "mutants")

KILLED = {"killed", "segfault"}
SURVIVED = {"survived", "no tests", "suspicious"}


def staging_dir() -> Path:
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm / f"certdesk-mutation-{tag}"
    return ROOT / "bench" / "results" / "mutation-work"


# --- the staging copy ----------------------------------------------------------------------------


def stage(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for name in COPY_DIRS:
        src, dst = ROOT / name, work / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=IGNORE)
    for name in COPY_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, work / name)
        elif (work / name).exists():
            (work / name).unlink()
    for rel in mutated_files():
        path = work / rel
        text = path.read_text(encoding="utf-8")
        marked = mark_sql_text(text)
        if marked != text:
            path.write_text(marked, encoding="utf-8")
    for rel, keep in FUNCTIONS.items():
        path = work / rel
        text = path.read_text(encoding="utf-8")
        marked = mark_out_of_scope(text, keep)
        if marked != text:
            path.write_text(marked, encoding="utf-8")
    (work / "tmp").mkdir(exist_ok=True)
    for old in (work / "tmp").glob("certdesk-migrated.sqlite*"):
        old.unlink()  # a schema (or an encryption) from an earlier run is never reused
    conftest = work / "tests" / "conftest.py"
    conftest.write_text(conftest.read_text(encoding="utf-8") + FAST_SCHEMA, encoding="utf-8")
    shutil.copy2(ROOT / "bench" / "mutmut_launch.py", work / "mutmut_launch.py")  # quickest first, known equivalents


# Appended to the staging copy's tests/conftest.py: a test's fresh SQLite file gets the schema by
# copying a database migrated once per run (Alembic is 40 % of a database test's time, and every
# mutant runs its tests anew). The migrations are not under test here; the schema is theirs.
FAST_SCHEMA = '''


# --- added by bench/mutation.py to its staging copy (never to the work tree) ---
def _mutation_fast_schema():
    import os
    import shutil

    import desktop.services.database as database
    from db.engine import make_engine

    migrate = database.upgrade
    template = os.path.join(os.environ.get("TMPDIR", "/tmp"), "certdesk-migrated.sqlite")

    def upgrade(engine):
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if path and path != ":memory:" and (not os.path.exists(path) or os.path.getsize(path) == 0):
            if not os.path.exists(template):
                part = f"{template}.{os.getpid()}"
                eng = make_engine(f"sqlite:///{part}")
                migrate(eng)
                eng.dispose()
                os.replace(part, template)
            shutil.copyfile(template, path)
        return migrate(engine)

    database.upgrade = upgrade


_mutation_fast_schema()


@pytest.fixture(autouse=True, scope="session")
def _mutation_cold_caches():
    """The fork server's parent filled the memo caches while it collected and measured the
    tests: a mutant inside a cache-miss branch (Month.from_index, month_text, the payroll's date
    and month parsers, the region table) would never run. Every mutant's run starts cold."""
    import desktop.domain.idnumber as idnumber
    import desktop.domain.months as months
    import desktop.services.payroll_rows as payroll

    for cache in (months._BY_INDEX, months._TEXT, months._SPANS, payroll._DATES, payroll._MONTHS):
        cache.clear()
    for fn in (idnumber._region_table, idnumber.region_name):
        getattr(fn, "cache_clear", lambda: None)()
    yield
'''


def mutated_files() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["tool"]["mutmut"]["only_mutate"])


# A line holding nothing but (a piece of) an SQL statement's text: a string literal, maybe followed
# by a comma or closing brackets, with an upper-case SQL keyword in it.
_SQL_LINE = re.compile(r'^\s*[rbf]*"[^"\n]*"\s*[,)\]]*\s*$')
# ... or the first line of such a text, opened by an assignment or a call: ``sql = ("SELECT …"``,
# ``raw.execute("UPDATE …"`` (mutmut reads the pragma on the line where the string starts)
_SQL_OPEN = re.compile(r'^\s*(\w+\s*=\s*\(?|[\w.]+\()\s*[rbf]*"[^"\n]*"\s*[,)\]]*\s*$')
_SQL_WORD = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|ORDER BY|GROUP BY|INSERT|UPDATE|DELETE|VALUES|CASE WHEN|"
                       r"THEN|IS NULL|IS NOT NULL|COALESCE|CREATE|DROP|ON CONFLICT|UNION|HAVING|LIMIT)\b")


def mark_sql_text(source: str) -> str:
    """``# pragma: no mutate`` on the lines that are only SQL text. mutmut's string mutants there
    are a keyword's case (SQL is case-insensitive: equivalent, yet each one runs every covering
    test, ~7 s) or ``"XX…XX"`` around a clause (a syntax error any test touching the statement
    hits). The statement's meaning — its filters, comparisons, columns — is pinned by the query
    tests (``tests/desktop/test_money_queries.py``), not by these mutants."""
    out = []
    for line in source.splitlines(keepends=True):
        body = line.rstrip("\n")
        if "#" not in body and (_SQL_LINE.match(body) or _SQL_OPEN.match(body)) and _SQL_WORD.search(body):
            line = body + "  # pragma: no mutate" + line[len(body):]
        out.append(line)
    return "".join(out)


def mark_out_of_scope(source: str, keep: set[str]) -> str:
    """``# pragma: no mutate block`` on every function (and class with none of ``keep``) not in
    ``keep`` (names like ``f`` or ``Class.method``)."""
    import libcst as cst

    pragma = "# pragma: no mutate block"

    def marked(node):
        body = node.body
        if not isinstance(body, cst.IndentedBlock):
            return node
        header = body.header
        comment = header.comment.value + "  " + pragma if header.comment else pragma
        ws = header.whitespace if header.comment else cst.SimpleWhitespace("  ")
        return node.with_changes(body=body.with_changes(header=header.with_changes(
            whitespace=ws, comment=cst.Comment(comment))))

    class Marker(cst.CSTTransformer):
        def __init__(self):
            self.stack: list[str] = []

        def visit_ClassDef(self, node):
            self.stack.append(node.name.value)

        def leave_ClassDef(self, original, updated):
            qual = ".".join(self.stack)
            self.stack.pop()
            if any(k.startswith(qual + ".") for k in keep):
                return updated  # its other methods are marked one by one
            return marked(original)  # the whole class

        def visit_FunctionDef(self, node):
            self.stack.append(node.name.value)
            return False  # nested functions go with their function

        def leave_FunctionDef(self, original, updated):
            qual = ".".join(self.stack)
            self.stack.pop()
            return updated if qual in keep else marked(updated)

    return cst.parse_module(source).visit(Marker()).code


# --- running -----------------------------------------------------------------------------------


PHASES = (("Generating mutants", "generate"), ("Running stats", "stats"), ("Running clean tests", "clean_tests"),
          ("Running forced fail", "forced_fail"), ("/", "mutants"))


def run_mutmut(work: Path, max_children: int, only: list[str], quiet: bool) -> tuple[int, dict]:
    """Runs mutmut; returns its exit code and when each phase started (seconds from the start)."""
    cmd = [sys.executable, "mutmut_launch.py", "run", "--max-children", str(max_children), *only]
    env = {**os.environ, "TMPDIR": str(work / "tmp"), "MUTATION_BENCH": str(ROOT / "bench")}
    log = work / "mutmut.log"
    t0 = last_report = time.monotonic()
    phases: dict[str, float] = {}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            time.sleep(1)
            line = _last_progress(log)
            for marker, name in PHASES:
                if marker in line and name not in phases:
                    phases[name] = round(time.monotonic() - t0, 1)
            if not quiet and time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                print(f"  {line}", file=sys.stderr, flush=True)
    phases["end"] = round(time.monotonic() - t0, 1)
    if proc.returncode != 0:
        tail = log.read_bytes()[-4000:].decode("utf-8", "replace")
        print(f"mutmut failed (exit {proc.returncode}); the end of {log}:\n{tail}", file=sys.stderr)
    return proc.returncode, phases


def _last_progress(log: Path) -> str:
    data = log.read_bytes()[-3000:].decode("utf-8", "replace")
    parts = [p.strip() for p in re.split(r"[\r\n]", data) if p.strip()]
    return parts[-1] if parts else "starting"


# --- results -------------------------------------------------------------------------------------


def function_of(mutant: str, module: str) -> str:
    key = mutant[len(module) + 1:].rsplit("__mutmut_", 1)[0]
    if key.startswith("xǁ"):
        return ".".join(p for p in key[2:].split("ǁ") if p)
    return key[2:] if key.startswith("x_") else key


def changed_lines(diff: str) -> list[str]:
    out = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith(("-", "+")):
            out.append(line[0] + " ".join(line[1:].split()))
    return out


def load_notes() -> list[dict]:
    if not EQUIVALENT_FILE.exists():
        return []
    return json.loads(EQUIVALENT_FILE.read_text(encoding="utf-8"))["mutants"]


def note_for(notes: list[dict], module: str, function: str, lines: list[str]) -> dict | None:
    """The note about this mutation: same module and function, and the same changed lines (or
    ``"diff": "*"``: every mutant of the function, e.g. a function nothing calls)."""
    for n in notes:
        if n["module"] != module or n["function"] != function:
            continue
        if n["diff"] == "*" or changed_lines("\n".join(n["diff"])) == lines:
            return n
    return None


def collect(work: Path, only: list[str]) -> dict:
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    notes = load_notes()
    used_notes: set[int] = set()
    by_module: dict[str, Counter] = defaultdict(Counter)
    survivors, accepted = [], []
    cwd = os.getcwd()
    os.chdir(work)
    try:
        for meta in sorted((work / "mutants").rglob("*.py.meta")):
            rel = meta.relative_to(work / "mutants").as_posix()[: -len(".meta")]
            module = rel[: -len(".py")].replace("/", ".")
            data = json.loads(meta.read_text(encoding="utf-8"))
            for mutant, code in sorted(data["exit_code_by_key"].items(), key=lambda kv: _natural(kv[0])):
                if only and not any(fnmatch.fnmatch(mutant, p) for p in only):
                    continue
                status = status_by_exit_code[code]
                c = by_module[module]
                c["mutants"] += 1
                if status in KILLED:
                    c["killed"] += 1
                    continue
                if status == "timeout":
                    c["timeout"] += 1
                    continue
                if status not in SURVIVED:
                    c["not_checked"] += 1  # not run (an interrupted run) or skipped
                    continue
                function = function_of(mutant, module)
                diff = get_diff_for_mutant(mutant, path=rel)
                note = note_for(notes, module, function, changed_lines(diff))
                if note is not None:
                    used_notes.add(id(note))
                if note is not None and note.get("status", "equivalent") == "equivalent":
                    c["equivalent"] += 1
                    continue
                c["survived"] += 1
                item = {"mutant": mutant, "module": module, "function": function, "status": status,
                        "diff": "\n".join(diff.splitlines()[2:])}
                if note is not None:
                    item["accepted"] = note["reason"]
                    accepted.append(item)
                survivors.append(item)
    finally:
        os.chdir(cwd)

    def score(c: Counter) -> float | None:
        counted = c["mutants"] - c["equivalent"] - c["not_checked"]
        return round(100 * (c["killed"] + c["timeout"]) / counted, 2) if counted else None

    total: Counter = sum(by_module.values(), Counter())
    keys = ("mutants", "killed", "survived", "timeout", "equivalent", "not_checked")
    return {
        "mutants": total["mutants"], "killed": total["killed"], "survived": total["survived"],
        "timeout": total["timeout"], "equivalent": total["equivalent"], "not_checked": total["not_checked"],
        "score": score(total),
        "by_module": {m: {**{k: c[k] for k in keys}, "score": score(c)} for m, c in sorted(by_module.items())},
        "survivors": survivors,
        "stale_notes": [n for n in notes if id(n) not in used_notes],
    }


def _natural(name: str):
    head, _, n = name.rpartition("__mutmut_")
    return head, int(n) if n.isdigit() else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the result as JSON only")
    ap.add_argument("--incremental", action="store_true", help="keep mutmut's cache from the last run")
    ap.add_argument("--report-only", action="store_true", help="report the last run's results, run nothing")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=[], help="mutant name globs, e.g. 'desktop.domain.ledger.*'")
    ap.add_argument("--fail-under", type=float, default=None, help="exit 3 when the score is below this")
    args = ap.parse_args()

    work = staging_dir()
    t0 = time.monotonic()
    load_before = os.getloadavg()
    if not args.report_only:
        if not args.incremental and work.exists():
            shutil.rmtree(work)
        stage(work)
        rc, phases = run_mutmut(work, args.max_children, args.only, quiet=False)
        if rc != 0:
            return 1
    elif not (work / "mutants").exists():
        print(f"no results in {work}: run without --report-only first", file=sys.stderr)
        return 1
    runtime = time.monotonic() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = collect(work, args.only)
    from importlib.metadata import version

    result.update({
        "tool": f"mutmut {version('mutmut')}",
        "runtime_seconds": None if args.report_only else round(runtime, 1),
        # CPU time of mutmut and its workers: what the run costs whatever else shares the machine
        # (on an idle 2-core machine the run takes about this / 2 plus the single-process phases)
        "cpu_seconds": None if args.report_only else round(usage.ru_utime + usage.ru_stime, 1),
        "phases_started_at_seconds": None if args.report_only else phases,
        "max_children": args.max_children,
        "fresh": not (args.incremental or args.report_only),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "staging": str(work),
    })
    RESULT_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_human(result)
    if args.fail_under is not None and (result["score"] or 0) < args.fail_under:
        return 3
    return 0


def print_human(r: dict) -> None:
    print(f"{r['tool']}: {r['mutants']} mutants, {r['killed']} killed, {r['timeout']} timeout, "
          f"{r['survived']} survived, {r['equivalent']} equivalent → score {r['score']} %"
          + (f" in {r['runtime_seconds'] / 60:.1f} min" if r["runtime_seconds"] else ""))
    for m, c in r["by_module"].items():
        print(f"  {m:32s} {c['mutants']:5d} mutants  {c['survived']:4d} survived  {c['equivalent']:3d} equivalent"
              f"  score {c['score']}")
    for s in r["survivors"]:
        print(f"\n# {s['mutant']} ({s['status']}){'  accepted: ' + s['accepted'] if s.get('accepted') else ''}")
        print(s["diff"])
    if r["stale_notes"]:
        print(f"\n{len(r['stale_notes'])} notes in {EQUIVALENT_FILE.name} match no surviving mutant any more")


if __name__ == "__main__":
    sys.exit(main())
