"""Shared test set-up: test mode, offscreen Qt, a private app home per test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CERTDESK_MODE"] = "test"

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _app_home(tmp_path, monkeypatch):
    """Every test gets its own data/config/log directories (never the user's real ones)."""
    home = tmp_path / "certdesk-home"
    monkeypatch.setenv("CERTDESK_HOME", str(home))
    monkeypatch.delenv("CERTDESK_DB", raising=False)
    monkeypatch.delenv("CERTDESK_CENTRAL", raising=False)
    monkeypatch.delenv("CERTDESK_OPERATOR", raising=False)  # command-line sign-in: tests say whom
    monkeypatch.delenv("CERTDESK_PASSWORD", raising=False)
    yield home


@pytest.fixture
def shared_dir() -> Path:
    return SHARED


@pytest.fixture
def faces_dir() -> Path:
    path = SHARED / "fixtures" / "faces"
    if not path.is_dir():
        pytest.skip("../shared/fixtures/faces is not available")
    return path
