"""The resident screen's language, remembered per resident (issue 19 §7): by the person's UUID, in
a file of this database's own, written whole."""

from __future__ import annotations

import json

import pytest

from desktop.services.resident_prefs import ResidentLanguages


def test_remembered_by_person_and_forgotten_on_mandarin(tmp_path):
    prefs = ResidentLanguages("sqlite:///a.sqlite", tmp_path / "lang.json")
    pid = "0b9c3f7e-0000-4000-8000-000000000001"
    assert prefs.get(pid) == "zh" and prefs.get(None) == "zh"
    prefs.set(pid, "mn")
    assert ResidentLanguages("sqlite:///a.sqlite", tmp_path / "lang.json").get(pid) == "mn"
    assert json.loads((tmp_path / "lang.json").read_text(encoding="utf-8")) == {pid: "mn"}
    prefs.set(pid, "zh")
    assert prefs.get(pid) == "zh" and json.loads((tmp_path / "lang.json").read_text(encoding="utf-8")) == {}
    with pytest.raises(ValueError):
        prefs.set(pid, "xx")
    assert not list(tmp_path.glob("*.tmp"))


def test_each_database_has_its_own_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CERTDESK_HOME", str(tmp_path))
    production = ResidentLanguages("sqlite:////data/certdesk.sqlite")
    training = ResidentLanguages("sqlite:////data/certdesk-training.sqlite")
    assert production.path != training.path and production.path.parent == training.path.parent
    training.set("p1", "mn")
    assert production.get("p1") == "zh"


def test_a_broken_file_means_nothing_remembered(tmp_path):
    path = tmp_path / "lang.json"
    path.write_text("{not json", encoding="utf-8")
    assert ResidentLanguages("x", path).get("p1") == "zh"
