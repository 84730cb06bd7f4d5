"""Fixtures for the reader tests: the pty fake SAM, the gcc-built vendor library, a fixed day."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TODAY = date(2026, 11, 29)


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def fake_sam(tmp_path):
    from desktop.devices.idcard.fake_device import FakeSamDevice

    device = FakeSamDevice(str(tmp_path / "ttyCARD"))
    yield device
    device.unplug()


def _compile(tmp: Path, source: str, name: str) -> Path:
    """Build a stand-in vendor SDK library with the machine's C compiler (gcc is part of the
    project's Debian 12 image; cc or clang do as well)."""
    compiler = next((c for c in ("gcc", "cc", "clang") if shutil.which(c)), None)
    if compiler is None:
        pytest.skip("no C compiler (gcc/cc/clang) to build the stand-in vendor SDK library "
                    "from tests/devices/fake_vendor.c")
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / f"lib{name}.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", str(out), str(src)], check=True)
    return out


@pytest.fixture(scope="session")
def vendor_lib_path(tmp_path_factory) -> Path:
    """One shared library exporting the SDTAPI, termb, GetBmp and wlt2bmp functions."""
    return _compile(tmp_path_factory.mktemp("vendor"), (HERE / "fake_vendor.c").read_text(), "fakevendor")


@pytest.fixture
def vendor(vendor_lib_path):
    """Control handle on the vendor library (state reset for every test)."""
    lib = ctypes.CDLL(str(vendor_lib_path))
    lib.test_reset()
    yield lib
    lib.test_reset()


@pytest.fixture(scope="session")
def incomplete_lib_path(tmp_path_factory) -> Path:
    return _compile(tmp_path_factory.mktemp("incomplete"), "int SDT_OpenPort(int p){return 0x90;}\n", "incomplete")
