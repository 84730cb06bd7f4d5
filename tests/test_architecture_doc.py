"""docs/architecture.md cannot rot: every source file it names exists, and a function or class it
names right after a file (`desktop/x.py` `Name`) is defined in that file."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
# `desktop/counter/flow.py`, optionally followed by `CounterFlow.card_read` / `stream`
NAMED = re.compile(r"`((?:desktop|db|ui|tests)/[\w/.-]+\.py)`(?:\s*`([A-Za-z_][\w.]*)`)?")
ANY_PATH = re.compile(r"(?<![\w/])(?:desktop|db|ui)/[\w/.-]+\.py\b")


def _named():
    text = DOC.read_text(encoding="utf-8")
    return text, NAMED.findall(text)


def test_the_page_names_the_layers_files():
    text, named = _named()
    assert len(named) > 40  # the walks, the threads and where to add things name their files
    for package in ("desktop/domain/", "desktop/platform/", "desktop/formats/", "desktop/counter/", "db/"):
        assert package in text


def test_every_file_it_names_exists():
    text, _ = _named()
    missing = sorted({p for p in ANY_PATH.findall(text) if not (ROOT / p).is_file()})
    missing += sorted({p for p, _ in NAMED.findall(text) if not (ROOT / p).is_file()})
    assert missing == []


def test_every_function_or_class_named_after_a_file_is_defined_there():
    _, named = _named()
    wrong = []
    for path, symbol in named:
        if not symbol or not (ROOT / path).is_file():
            continue
        source = (ROOT / path).read_text(encoding="utf-8")
        for part in symbol.split("."):
            if not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{part}\b|^\s*{part}\s*[:=]", source, re.M):
                wrong.append(f"{path} {symbol}")
                break
    assert wrong == []
