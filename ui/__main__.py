"""Entry point of ``certdesk``: the app window, ``certdesk demo``, or a headless command.

Headless commands are dispatched to :mod:`desktop.cli` before anything imports Qt, so they start
fast and run on machines without a display. The window on a Linux machine without a display
(no ``DISPLAY`` / ``WAYLAND_DISPLAY``, e.g. an SSH session) stops with one line in Chinese and
English saying so, before Qt prints its misleading "could not load the Qt platform plugin xcb".
"""

from __future__ import annotations

import os
import sys

EXIT_NO_DISPLAY = 5  # device or network (certdesk --help: exit statuses)
NO_DISPLAY_MESSAGE = (
    "没有可用的显示器（未设置 DISPLAY 或 WAYLAND_DISPLAY），无法打开窗口；命令行功能无需显示器："
    "certdesk --help 列出全部命令（如 certdesk selftest --json），演示演练 certdesk demo --drill N --json 在后台运行。"
    " / No display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window cannot open; headless "
    "commands need none: certdesk --help lists them (e.g. certdesk selftest --json), "
    "certdesk demo --drill N --json runs offscreen, QT_QPA_PLATFORM=offscreen for scripted windows."
)
# Qt platforms that need a display server (QT_QPA_PLATFORM unset means xcb or wayland on Linux)
_DISPLAY_PLATFORMS = ("", "xcb", "wayland", "wayland-egl")

GUI_COMMANDS = {None, "demo", "gui"}
# options of the window that take a value: skipped when looking for the command
GUI_VALUE_OPTIONS = {"--db", "--as-of", "--screenshot", "--demo-persons", "--drill"}
GUI_FLAGS = {"--exit-when-ready", "--json"}


def _first_command(argv: list[str]) -> str | None:
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in GUI_VALUE_OPTIONS:
            skip = True
            continue
        if arg.split("=", 1)[0] in GUI_VALUE_OPTIONS or arg in GUI_FLAGS:
            continue
        if arg.startswith("-"):
            return "--"  # an option of the CLI (e.g. --version, --help)
        return arg
    return None


def display_problem(argv: list[str], env=os.environ, platform: str = sys.platform) -> str | None:
    """The no-display message when the window cannot open on this Linux machine, else None."""
    if not platform.startswith("linux"):
        return None  # Windows and macOS always have their own window system
    if "--drill" in argv or any(a.startswith("--drill=") for a in argv):
        return None  # the drill runs offscreen (ui/drill.py)
    qpa = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if qpa not in _DISPLAY_PLATFORMS:
        return None  # offscreen, minimal, vnc, eglfs, linuxfb … need no display server
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY_MESSAGE


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # the frozen app re-enters here to run the face-encoder child
    argv = list(sys.argv[1:] if argv is None else argv)
    from desktop.platform.logging_setup import setup_logging

    setup_logging()  # rotating file in the log dir; ID numbers, phones and image bytes redacted
    if _first_command(argv) in GUI_COMMANDS:
        if "-h" not in argv and "--help" not in argv and (problem := display_problem(argv)):
            print(problem, file=sys.stderr)
            return EXIT_NO_DISPLAY
        from ui.app import run_gui

        return run_gui(argv)
    from desktop.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
