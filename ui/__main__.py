"""Entry point of ``certdesk``: the app window, ``certdesk demo``, or a headless command.

Headless commands are dispatched to :mod:`desktop.cli` before anything imports Qt, so they start
fast and run on machines without a display.
"""

from __future__ import annotations

import sys

GUI_COMMANDS = {None, "demo", "gui"}


def _first_command(argv: list[str]) -> str | None:
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--db":
            skip = True
            continue
        if arg.startswith("--db="):
            continue
        if arg.startswith("-"):
            return "--"  # an option of the CLI (e.g. --version, --help)
        return arg
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _first_command(argv)
    if command in GUI_COMMANDS and not ("demo" in argv and ("--drill" in argv)):
        from ui.app import run_gui

        return run_gui(argv)
    if command == "demo":
        from ui.app import run_gui

        return run_gui(argv)
    from desktop.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
