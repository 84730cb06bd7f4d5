"""Entry point of ``certdesk``: the app window, ``certdesk demo``, or a headless command.

Headless commands are dispatched to :mod:`desktop.cli` before anything imports Qt, so they start
fast and run on machines without a display.
"""

from __future__ import annotations

import sys

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


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # the frozen app re-enters here to run the face-encoder child
    argv = list(sys.argv[1:] if argv is None else argv)
    from desktop.logging_setup import setup_logging

    setup_logging()  # rotating file in the log dir; ID numbers, phones and image bytes redacted
    if _first_command(argv) in GUI_COMMANDS:
        from ui.app import run_gui

        return run_gui(argv)
    from desktop.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
