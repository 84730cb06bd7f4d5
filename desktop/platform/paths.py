"""Where CertDesk keeps its data, settings and logs.

platformdirs gives the per-OS user directories; ``CERTDESK_HOME`` overrides all of them (tests,
portable installs, field technicians). Resources are found next to the code, or inside the
PyInstaller bundle (``sys._MEIPASS``) when frozen.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "CertDesk"


def _home() -> Path | None:
    value = os.environ.get("CERTDESK_HOME")
    return Path(value) if value else None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    home = _home()
    if home:
        return _ensure(home / "data")
    import platformdirs

    return _ensure(Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False)))


def config_dir() -> Path:
    home = _home()
    if home:
        return _ensure(home / "config")
    import platformdirs

    return _ensure(Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)))


def log_dir() -> Path:
    home = _home()
    if home:
        return _ensure(home / "logs")
    import platformdirs

    return _ensure(Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False)))


def default_db_path(demo: bool = False) -> Path:
    return data_dir() / ("certdesk-demo.sqlite" if demo else "certdesk.sqlite")


def resource_root() -> Path:
    base = getattr(sys, "_MEIPASS", None)
    if base:
        return Path(base) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)
