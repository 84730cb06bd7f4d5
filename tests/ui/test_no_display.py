"""``certdesk`` on a Linux machine without a display: one clear line and exit status 5, not Qt's
"could not load the Qt platform plugin xcb" (which blames libraries that are installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.__main__ import EXIT_NO_DISPLAY, NO_DISPLAY_MESSAGE, display_problem

ROOT = Path(__file__).resolve().parents[2]


def test_which_machines_have_no_display():
    linux = "linux"
    assert display_problem([], {}, linux) == NO_DISPLAY_MESSAGE
    assert display_problem(["demo"], {"QT_QPA_PLATFORM": "xcb"}, linux) == NO_DISPLAY_MESSAGE
    assert display_problem([], {"DISPLAY": ":0"}, linux) is None
    assert display_problem([], {"WAYLAND_DISPLAY": "wayland-0"}, linux) is None
    assert display_problem([], {"QT_QPA_PLATFORM": "offscreen"}, linux) is None
    assert display_problem(["demo", "--drill", "5", "--json"], {}, linux) is None  # runs offscreen
    assert display_problem([], {}, "win32") is None


def test_the_message_says_so_in_chinese_and_english_and_how_to_go_headless():
    assert "\n" not in NO_DISPLAY_MESSAGE
    assert "显示器" in NO_DISPLAY_MESSAGE and "No display" in NO_DISPLAY_MESSAGE
    assert "certdesk --help" in NO_DISPLAY_MESSAGE and "--drill" in NO_DISPLAY_MESSAGE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Windows and macOS always have a display")
def test_certdesk_without_a_display_exits_5_with_the_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["CERTDESK_HOME"] = str(tmp_path)
    code = "import sys; from ui.__main__ import main; rc = main(); " \
           "assert 'PySide6' not in sys.modules, 'Qt was imported'; sys.exit(rc)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == EXIT_NO_DISPLAY, r.stderr
    assert r.stderr.strip() == NO_DISPLAY_MESSAGE
    assert "xcb" not in r.stderr
