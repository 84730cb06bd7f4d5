"""mutmut 3.8, launched by ``bench/mutation.py`` in its staging copy, with two changes to how
mutants are run (mutmut has no option for either):

* **The likely killer first, then the quickest.** mutmut runs a mutant's tests (every test that
  reached the mutated function) in the order of a set, with ``-x``: a mutant the quickest test
  kills could wait for a 4-second property test first. Here the tests that killed earlier mutants
  of the same function run first (a function's mutants tend to be caught by the same test; each
  run records its failing test in ``tmp/killers/``), then the rest by their cost per kill so far —
  the duration mutmut itself measured in its stats phase divided by one more than the number of
  mutants the test has killed in this run (``tmp/killers/all``): a quick test first, a test that
  catches many slips before one as quick that never has. A survivor still runs them all; the
  order changes no result.
* **Known survivors are not run.** A mutant that matches a note of
  ``bench/mutation_equivalent.json`` (same module, function and changed lines — the very test
  ``bench/mutation.py`` applies to survivors when it reports) would only run every covering test
  to survive, as it did when the note was written; it is reported as such (exit 0, duration 0)
  without being run. Notes with status ``equivalent`` are not counted; ``accepted`` ones are
  counted as survived (since issue 20: running them cost ≈ 4 of 22 minutes). Set
  ``MUTATION_RUN_EQUIVALENT=1`` to run them all, e.g. to check that a note still holds after its
  function changed or that a new test now kills an accepted one (a note that stops matching is
  listed as stale).

Run from the staging directory as ``python mutmut_launch.py run …``; ``MUTATION_BENCH`` names the
``bench/`` folder whose ``mutation.py`` holds the matching rules.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import os
import sys
from collections import deque
from functools import lru_cache

sys.path.insert(0, os.environ["MUTATION_BENCH"])

import mutation as bench  # noqa: E402  (bench/mutation.py: notes and how they match)
from mutmut.__main__ import cli  # noqa: E402
from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: E402
from mutmut.runners import harness  # noqa: E402
from mutmut.state import state  # noqa: E402
from mutmut.utils.file_utils import change_cwd  # noqa: E402
from mutmut.workers import isolation  # noqa: E402

_regular = harness.PytestRunner._pytest_args_regular_run
_KILLERS = os.path.join(os.getcwd(), "tmp", "killers")


def _killers_file(mutant_name: str) -> str:
    function = mutant_name.rsplit("__mutmut_", 1)[0]
    return os.path.join(_KILLERS, hashlib.sha1(function.encode()).hexdigest())


def _known_killers(mutant_name: str) -> list[str]:
    try:
        with open(_killers_file(mutant_name), encoding="utf-8") as fh:
            return fh.read().split("\n")[-5:][::-1]  # the latest first
    except OSError:
        return []


_ALL_KILLS = os.path.join(_KILLERS, "all")


def _kill_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    try:
        with open(_ALL_KILLS, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    counts[line] = counts.get(line, 0) + 1
    except OSError:
        pass
    return counts


class _KillerRecorder:
    """pytest plugin (in the mutant's process): the test that failed, kept for the function's
    next mutants and counted for everyone's."""

    def __init__(self, mutant_name: str):
        self.path = _killers_file(mutant_name)

    def pytest_runtest_logreport(self, report):
        if report.failed:
            os.makedirs(_KILLERS, exist_ok=True)
            for path in (self.path, _ALL_KILLS):
                with open(path, "a", encoding="utf-8") as fh:  # one short line: atomic append
                    fh.write("\n" + report.nodeid)


def _run_tests(self, *, mutant_name, tests):
    durations = state().duration_by_test
    tests = list(tests)
    plugins = []
    if mutant_name:
        rank = {t: i for i, t in enumerate(dict.fromkeys(_known_killers(mutant_name)))}
        kills = _kill_counts()
        tests.sort(key=lambda t: (rank.get(t, len(rank)), durations.get(t, 0.0) / (1 + kills.get(t, 0)), t))
        plugins.append(_KillerRecorder(mutant_name))
    else:
        tests.sort(key=lambda t: (durations.get(t, 0.0), t))
    with change_cwd("mutants"):
        return int(self.execute_pytest(_regular(self, tests), plugins=plugins))


harness.PytestRunner.run_tests = _run_tests

_NOTES = [n for n in bench.load_notes() if n.get("status", "equivalent") in ("equivalent", "accepted")]
_NOTED = {(n["module"], n["function"]) for n in _NOTES}
_MODULES = sorted((f[: -len(".py")].replace("/", ".") for f in bench.mutated_files()), key=len, reverse=True)
SKIPPED: list[str] = []


_MUTANTS_DIR = os.path.join(os.getcwd(), "mutants")


@lru_cache(maxsize=None)
def _functions(path: str) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """The lines of mutmut's copy of a file and where each original or mutated function is."""
    with open(os.path.join(_MUTANTS_DIR, path), encoding="utf-8") as fh:
        text = fh.read()
    spans = {node.name: (node.lineno, node.end_lineno) for node in ast.walk(ast.parse(text))
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name}
    return text.splitlines(), spans


def changed_lines(mutant: str, module: str) -> list[str]:
    """The mutant's changed lines as ``bench.changed_lines`` gives them for mutmut's own diff,
    read from the source text (mutmut's diff re-renders both functions: ≈ 80 ms a mutant, in the
    process that hands out the work)."""
    path = module.replace(".", "/") + ".py"
    lines, spans = _functions(path)
    key = mutant[len(module) + 1:]
    orig = key.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"
    if orig not in spans or key not in spans:
        return bench.changed_lines(get_diff_for_mutant(mutant, path=path))
    (a0, a1), (b0, b1) = spans[orig], spans[key]
    mutated = lines[b0 - 1:b1]
    mutated[0] = mutated[0].replace(key, orig, 1)
    return bench.changed_lines("\n".join(difflib.unified_diff(lines[a0 - 1:a1], mutated, lineterm="")))


def known_equivalent(mutant: str) -> bool:
    module = next((m for m in _MODULES if mutant.startswith(m + ".")), None)
    if module is None:
        return False
    function = bench.function_of(mutant, module)
    if (module, function) not in _NOTED:  # most mutants: no diff needed
        return False
    return bench.note_for(_NOTES, module, function, changed_lines(mutant, module)) is not None


def _skipping(runner_class):
    submit, wait, pending = runner_class.submit, runner_class.wait_for_result, runner_class.pending_count

    def submit_(self, mutant_name, tests, cpu_time_limit, estimated_time):
        if known_equivalent(mutant_name):
            self.__dict__.setdefault("_equivalent", deque()).append(
                isolation.MutantResult(mutant_name=mutant_name, exit_code=0, duration=0.0))
            SKIPPED.append(mutant_name)
            return
        submit(self, mutant_name, tests, cpu_time_limit, estimated_time)

    def wait_(self, timeout=None):
        done = self.__dict__.get("_equivalent")
        if done:
            return done.popleft()
        return wait(self, timeout)

    def pending_(self):
        return pending(self) + len(self.__dict__.get("_equivalent", ()))

    runner_class.submit, runner_class.wait_for_result, runner_class.pending_count = submit_, wait_, pending_


if os.environ.get("MUTATION_RUN_EQUIVALENT") != "1":
    for _cls in {isolation.ForkServerRunner, *isolation.MutantRunner.__subclasses__()}:
        if "submit" in _cls.__dict__:
            _skipping(_cls)

if __name__ == "__main__":
    sys.argv[0] = "mutmut"
    try:
        cli()
    finally:
        print(f"\nknown survivors (equivalent or accepted), not run: {len(SKIPPED)}", flush=True)
