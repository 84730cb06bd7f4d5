"""A fake CUPS ``lp`` on PATH for printing tests: the true boundary of the printing layer.

``install(tmp_path, monkeypatch)`` puts an executable ``lp`` first on PATH that records each call
(its argv and a copy of the file it was given) as one JSON line in the returned log, and answers
like CUPS ("request id is …"); ``fail=`` makes it exit 1 with that message on stderr instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SCRIPT = r'''#!{python}
import json, shutil, sys
from pathlib import Path
log = Path({log!r})
args = sys.argv[1:]
fail = {fail!r}
if fail:
    sys.stderr.write(fail + "\n")
    sys.exit(1)
n = sum(1 for _ in log.open()) + 1 if log.exists() else 1
copy = log.parent / f"job-{{n}}.pdf"
shutil.copyfile(args[-1], copy)
with log.open("a") as fh:
    fh.write(json.dumps({{"args": args, "copy": str(copy)}}) + "\n")
dest = args[args.index("-d") + 1] if "-d" in args else "Default"
print(f"request id is {{dest}}-{{100 + n}} (1 file(s))")
'''


def install(tmp_path: Path, monkeypatch, *, fail: str | None = None, name: str = "lpbin") -> Path:
    if sys.platform.startswith("win"):
        import pytest

        pytest.skip("lp is the Linux/macOS queue; Windows uses the shell print verb")
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    log = folder / "calls.jsonl"
    lp = folder / "lp"
    lp.write_text(SCRIPT.format(python=sys.executable, log=str(log), fail=fail), encoding="utf-8")
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
