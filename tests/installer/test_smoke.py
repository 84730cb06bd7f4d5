"""Smoke test of the frozen bundle: build it with PyInstaller, then run it offscreen from a clean
environment (env -i with PATH only: no venv, no PYTHONPATH, cwd outside the repository).

Slow (a build takes 1-3 minutes and ~600 MB of disk), so it runs only with
``CERTDESK_BUILD_SMOKE=1``; ``CERTDESK_SMOKE_BUNDLE=dist/certdesk`` reuses a bundle already built
by ``scripts/build.sh`` instead of building one. Linux only (the Windows build is checked by hand,
docs/installer.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
SMOKE = os.environ.get("CERTDESK_BUILD_SMOKE") == "1"

pytestmark = [
    pytest.mark.installer,
    pytest.mark.skipif(not SMOKE, reason="builds the PyInstaller bundle (slow): set CERTDESK_BUILD_SMOKE=1"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the smoke test drives the Linux bundle"),
]


def _build(out: Path) -> Path:
    uv = shutil.which("uv")
    if uv:
        cmd = [uv, "run", "--with", "pyinstaller>=6.10,<7", "pyinstaller"]
    else:  # PyInstaller installed by hand in this interpreter
        pytest.importorskip("PyInstaller")
        cmd = [sys.executable, "-m", "PyInstaller"]
    cmd += ["--noconfirm", "--distpath", str(out / "dist"), "--workpath", str(out / "work"),
            str(ROOT / "installer.spec")]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    return out / "dist" / "certdesk"


@pytest.fixture(scope="session")
def bundle() -> Path:
    reuse = os.environ.get("CERTDESK_SMOKE_BUNDLE")
    path = Path(reuse).resolve() if reuse else _build(ROOT / "build" / "smoke")
    assert (path / "certdesk").is_file() and (path / "certdesk-cli").is_file(), path
    return path


@pytest.fixture
def run(bundle, tmp_path):
    """Run an executable of the bundle in a clean environment; returns CompletedProcess (text)."""
    home = tmp_path / "home"
    work = tmp_path / "cwd"
    work.mkdir()

    def _run(exe: str, *args: str, timeout: float = 120, env: dict | None = None):
        # test mode: no OS key store here, so the database uses the simulation key (issue 16)
        clean = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "CERTDESK_HOME": str(home),
                 "CERTDESK_MODE": "test"}
        clean.update(env or {})
        r = subprocess.run([str(bundle / exe), *args], cwd=work, env=clean, capture_output=True,
                           timeout=timeout)
        r.stdout = r.stdout.decode("utf-8", "replace")
        r.stderr = r.stderr.decode("utf-8", "replace")
        return r

    _run.home = home
    _run.cwd = work
    _run.bundle = bundle
    return _run


def test_version(run):
    for exe in ("certdesk-cli", "certdesk"):
        r = run(exe, "--version")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == __version__


def test_selftest_in_the_bundle(run, bundle):
    # no system font: the one in the bundle must print (a machine with none installed)
    r = run("certdesk-cli", "selftest", "--json", "--deep", timeout=180, env={"CERTDESK_NO_SYSTEM_FONTS": "1"})
    doc = json.loads(r.stdout)
    checks = {c["key"]: c for c in doc["checks"]}
    assert doc["platform"]["frozen"] is True
    assert checks["face_models"]["ok"] is True, checks["face_models"]  # dlib + models load frozen
    assert str(bundle) in checks["face_models"]["detail"]
    assert checks["cjk_font"]["ok"] is True
    assert checks["cjk_font"]["detail"].startswith(str(bundle)), "the bundled font must be used"
    assert checks["database"]["ok"] is True
    assert r.returncode == 0 and doc["ok"] is True, doc
    assert (run.home / "logs" / "selftest-last.json").is_file()


def test_main_window_opens_and_migrates(run):
    r = run("certdesk", "--exit-when-ready", timeout=90)  # usable in ~2 s when healthy
    assert r.returncode == 0, r.stderr[-4000:]
    assert "usable" in r.stderr
    db = run.home / "data" / "certdesk.sqlite"
    assert db.is_file()
    from db.migrate import head_revision

    from db import encryption
    from desktop.platform import keystore

    conn = encryption.connect(db, keystore.simulation_key(keystore.DATABASE_KEY))  # encrypted (issue 16)
    try:  # the bundled Alembic revisions ran
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    finally:
        conn.close()


def test_demo_window_with_simulated_data(run):
    r = run("certdesk", "demo", "--exit-when-ready", "--demo-persons", "40", timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    assert (run.home / "data" / "certdesk-demo.sqlite").is_file()


def test_decode_qr_png(run):
    import cv2
    import numpy as np
    import zxingcpp

    code = zxingcpp.create_barcode("CD1.SMOKE-TEST.0.20261231", zxingcpp.BarcodeFormat.QRCode)
    img = np.asarray(code.to_image(scale=8, add_quiet_zones=True))
    img = cv2.copyMakeBorder(img, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=255)
    png = run.cwd / "form-photo.png"
    blank = run.cwd / "blank.png"
    assert cv2.imwrite(str(png), img) and cv2.imwrite(str(blank), np.full_like(img, 255))

    db = str(run.home / "qr.sqlite")
    # a scripted install: the bundle's own init makes the admin, a job signs in from the environment
    # a production start on a machine with no OS key store refuses, in Chinese, and writes no key
    prod = subprocess.run([str(run.bundle / "certdesk-cli"), "--db", db, "init", "--admin-password-stdin", "--json"],
                          cwd=run.cwd, input=b"Smoke2026x\n", capture_output=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "CERTDESK_HOME": str(run.home)})
    assert prod.returncode == 3 and b"keystore_unavailable" in prod.stdout, prod.stdout + prod.stderr
    assert "系统密钥库" in json.loads(prod.stdout)["message"]
    init = subprocess.run([str(run.bundle / "certdesk-cli"), "--db", db, "init", "--admin-password-stdin", "--json"],
                          cwd=run.cwd, input=b"Smoke2026x\n", capture_output=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "CERTDESK_HOME": str(run.home), "CERTDESK_MODE": "test"})
    assert init.returncode == 0, init.stdout + init.stderr
    signed = {"CERTDESK_OPERATOR": "admin", "CERTDESK_PASSWORD": "Smoke2026x"}

    def receive(path):
        r = run("certdesk-cli", "--db", db, "forms", "receive", "--image", str(path),
                "--body", "测试街道", "--date", "2026-11-25", "--certifier", "测试", "--json", env=signed)
        return r, json.loads(r.stdout)

    r, doc = receive(blank)
    assert doc["reason"] == "no_qr", r.stderr
    r, doc = receive(png)  # decoded (zxing-cpp + OpenCV in the bundle), then rejected as not ours
    assert doc["reason"] not in ("no_qr", None) and doc["accepted"] is False, doc


def test_read_simulated_card(run):
    from desktop.devices.idcard import samples

    card = samples.demo_cards()[0]
    frame = run.cwd / "reply.hex"
    frame.write_text(samples.build_read_reply(card).hex(" "), encoding="utf-8")
    r = run("certdesk-cli", "idcard", "decode", "--hex", str(frame), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["result"] == "card" and doc["name"] == card.name and doc["id_number"] == card.id_number


def test_missing_font_is_reported_not_silent(run):
    r = run("certdesk-cli", "selftest", env={"CERTDESK_CJK_FONT": "/nonexistent/font.ttc"})
    assert r.returncode == 5  # a device fault (exit statuses: certdesk --help)
    assert "中文打印字体" in r.stdout and "失败" in r.stdout
