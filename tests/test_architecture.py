"""The layering rules of architecture.md, enforced: import-linter contracts, and commands that
open no window never import Qt or the face models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


def test_headless_command_imports_no_qt_and_no_face_models(tmp_path):
    code = (
        "import sys, json\n"
        "from ui.__main__ import main\n"
        "rc = main(['--db', sys.argv[1], 'person', 'show', '152202194009012240', '--json'])\n"
        "heavy = [m for m in ('PySide6', 'shiboken6', 'face_recognition', 'dlib', 'cv2', 'reportlab') if m in sys.modules]\n"
        "print(json.dumps({'rc': rc, 'heavy': heavy}), file=sys.stderr)\n"
    )
    from cli_auth import signed_env

    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    env = {**os.environ, "CERTDESK_HOME": str(tmp_path), **signed_env(url, "clerk")}  # signs in, still no Qt
    result = subprocess.run([sys.executable, "-c", code, url], cwd=ROOT, capture_output=True, text=True, env=env)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["rc"] == 4  # not on the roster: a clear error (exit status 4), not a crash
    assert json.loads(result.stdout)["error"] == "not_found"
