"""The start-up self-test, Qt-free: each check's pass/fail and its Chinese message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import selftest
from desktop.face import models
from desktop.printing import fonts

ROOT = Path(__file__).resolve().parents[2]


def test_avx_present_missing_unknown():
    assert selftest.check_cpu(lambda: True).ok is True
    bad = selftest.check_cpu(lambda: False)
    assert bad.ok is False and bad.severity == selftest.ERROR
    assert "AVX" in bad.message_zh and "人工核验" in bad.message_zh
    unknown = selftest.check_cpu(lambda: None)
    assert unknown.ok is None and not unknown.failed


def test_avx_read_from_proc_cpuinfo(monkeypatch, tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux reads /proc/cpuinfo")
    real_path = Path
    fake = tmp_path / "cpuinfo"
    monkeypatch.setattr(models.platform, "machine", lambda: "x86_64")

    def fake_path(p, *a):
        return real_path(fake) if str(p) == "/proc/cpuinfo" else real_path(p, *a)

    monkeypatch.setattr(models, "Path", fake_path)
    fake.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx2\n")  # avx2 alone is not "avx"
    assert models.cpu_has_avx() is False
    fake.write_text("processor\t: 0\nflags\t\t: fpu sse avx avx2\n")
    assert models.cpu_has_avx() is True


def test_no_avx_never_loads_dlib(monkeypatch):
    monkeypatch.setattr(models, "cpu_has_avx", lambda: False)
    loaded = []
    monkeypatch.setattr(models, "load_face_recognition", lambda **kw: loaded.append(1))
    report = selftest.run_selftest(deep=True, only=["cpu_avx", "face_models"])
    assert not report.ok and [c.key for c in report.errors] == ["cpu_avx"]
    assert loaded == []


def test_face_models_present_and_missing(monkeypatch, tmp_path):
    assert selftest.check_face_models().ok is True

    def missing():
        raise models.FaceModelsUnavailable("face_models_missing", "人脸识别模型文件缺失，请联系技术人员", "x")

    monkeypatch.setattr(models, "models_dir", missing)
    c = selftest.check_face_models()
    assert c.ok is False and c.severity == selftest.ERROR and "人脸识别模型" in c.message_zh


def test_cjk_font_found_and_missing(monkeypatch, tmp_path):
    assert selftest.check_cjk_font().ok is True
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "nope.ttf"))
    c = selftest.check_cjk_font()
    assert c.ok is False and c.severity == selftest.ERROR
    assert "中文" in c.message_zh and "字体" in c.message_zh and "nope.ttf" in c.detail


def test_bundled_font_comes_last(monkeypatch, tmp_path):
    """The system's font first (Windows: Microsoft YaHei / SimSun), the one that comes with
    CertDesk as the fallback everywhere."""
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "bundled.ttc").write_bytes(b"x")
    (tmp_path / "fonts" / "LICENCE.txt").write_text("x")
    monkeypatch.setattr("desktop.platform.paths.resource_root", lambda: tmp_path)
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.delenv(fonts.NO_SYSTEM_ENV_VAR, raising=False)
    specs = fonts.candidates()
    assert specs[-1] == fonts.FontSpec(str(tmp_path / "fonts" / "bundled.ttc"), 0)
    monkeypatch.setenv(fonts.NO_SYSTEM_ENV_VAR, "1")
    assert fonts.candidates() == [fonts.FontSpec(str(tmp_path / "fonts" / "bundled.ttc"), 0)]
    assert all(not s.path.endswith(".txt") for s in specs)


def test_database_writable_new_existing_and_readonly(tmp_path, monkeypatch):
    c = selftest.check_database(str(tmp_path / "a" / "new.sqlite"))
    assert c.ok is True and "首次" in c.message_zh
    db = tmp_path / "old.sqlite"
    db.write_bytes(b"")
    assert selftest.check_database(f"sqlite:///{db}").ok is True
    monkeypatch.setattr(selftest.os, "access", lambda path, mode: False)  # as root chmod is no test
    c = selftest.check_database(f"sqlite:///{db}")
    assert c.ok is False and c.severity == selftest.ERROR and "只读" in c.message_zh


def test_database_folder_not_writable(monkeypatch, tmp_path):
    def denied(folder):
        return f"{folder}: Permission denied"

    monkeypatch.setattr(selftest, "_writable_dir", denied)
    c = selftest.check_database(str(tmp_path / "x.sqlite"))
    assert c.ok is False and "不可写" in c.message_zh


def test_database_default_uses_app_home(_app_home):
    c = selftest.check_database()
    assert c.ok is True and str(_app_home) in c.message_zh


def test_central_database_is_not_connected_unless_deep():
    c = selftest.check_database("postgresql://clerk:secret@db.example:5432/certdesk")
    assert c.ok is None and "db.example" in c.message_zh and "secret" not in c.message_zh


def test_card_reader_states():
    assert selftest.check_card_reader(demo=True).ok is None
    none = selftest.check_card_reader(ports=[], sdk_paths=[])
    assert none.ok is False and none.severity == selftest.WARNING and "手工录入" in none.message_zh
    known = selftest.check_card_reader(ports=[{"port": "COM3", "known_as": "CH340 USB 串口"}], sdk_paths=[])
    assert known.ok is True and "COM3" in known.message_zh
    unknown = selftest.check_card_reader(ports=[{"port": "/dev/ttyS0"}], sdk_paths=[])
    assert unknown.ok is None and "devices probe" in unknown.message_zh
    sdk = selftest.check_card_reader(ports=[], sdk_paths=[("sdtapi", "C:/app/sdtapi.dll")])
    assert sdk.ok is True


def test_camera_states():
    assert selftest.check_camera(lister=lambda: ["USB Camera"]).ok is True
    c = selftest.check_camera(lister=lambda: [])
    assert c.ok is False and c.severity == selftest.WARNING and "人工核验" in c.message_zh
    assert selftest.check_camera(demo=True).ok is None


def test_crashing_check_becomes_an_error_row(monkeypatch):
    def boom():
        raise RuntimeError("kaput")

    monkeypatch.setattr(selftest, "check_cjk_font", boom)
    report = selftest.run_selftest(only=["cjk_font"])
    assert not report.ok and report.errors[0].key == "cjk_font" and "自检出错" in report.errors[0].message_zh


def test_report_json_and_summary(tmp_path):
    report = selftest.run_selftest(db_url=str(tmp_path / "x.sqlite"), demo=True)
    doc = report.as_json()
    assert [c["key"] for c in doc["checks"]] == list(selftest.CHECK_KEYS)
    assert doc["ok"] is True and doc["platform"]["version"]
    json.dumps(doc, ensure_ascii=False)
    assert report.summary_zh() == "自检通过"
    path = selftest.save_report(report)
    assert path and json.loads(path.read_text(encoding="utf-8"))["ok"] is True


def test_cli_selftest_json_exit_status(tmp_path):
    env = {**os.environ, "CERTDESK_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-m", "desktop", "selftest", "--json", "--demo"],
                       cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True and {c["key"] for c in doc["checks"]} == set(selftest.CHECK_KEYS)
    assert (tmp_path / "home" / "logs" / "selftest-last.json").is_file()
    env[fonts.ENV_VAR] = str(tmp_path / "missing.ttf")
    r = subprocess.run([sys.executable, "-m", "desktop", "selftest"], cwd=ROOT, env=env,
                       capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert r.returncode == 5 and "中文打印字体" in r.stdout and "失败" in r.stdout  # a device fault


def test_selftest_imports_no_qt():
    code = ("import sys, desktop.selftest as s; s.run_selftest(demo=True, only=['cpu_avx','database']);"
            "print([m for m in ('PySide6', 'shiboken6') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stderr


def test_key_store_check_in_each_situation(monkeypatch):
    monkeypatch.setenv("CERTDESK_MODE", "test")
    sim = selftest.check_key_store(lambda: "memory")
    assert sim.ok is True and "模拟密钥" in sim.message_zh
    none = selftest.check_key_store(lambda: "none")
    assert none.ok is False and none.severity == selftest.ERROR and "系统密钥库" in none.message_zh
    real = selftest.check_key_store(lambda: "keyring.backends.SecretService.Keyring")
    assert real.ok is True and real.detail.endswith("SecretService.Keyring")
    # as run: in test mode with no desktop session this machine has the simulation store
    assert selftest.run_selftest(only=["key_store"]).get("key_store").ok is True
