"""Start-up budget guard (issue 2): building the window's page list must stay light.

``ui.main_window`` imports every ``ui.pages`` module on the GUI thread while the database worker
imports SQLAlchemy at the same moment; a page that imports a service (→ SQLAlchemy, argon2), the
camera driver (cv2) or the face modules at module level costs the window ~1 s (import lock and GIL
contention). Heavy imports belong inside the methods that run once the database is open. Checked in
a fresh interpreter, so modules the other tests loaded do not hide a regression.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "db", "cv2", "numpy", "dlib", "face_recognition", "argon2", "reportlab", "openpyxl",
         "desktop.face", "desktop.services", "desktop.devices", "ui.resident_screen", "ui.face_check_panel",
         "PySide6.QtMultimedia", "PySide6.QtTextToSpeech")

SCRIPT = """
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
import ui.main_window as mw
specs = mw.discover_pages()
window = mw.MainWindow()
print(json.dumps({"pages": [s["key"] for s in specs], "modules": sorted(sys.modules)}))
"""


def test_window_and_pages_import_no_database_camera_or_face_modules():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "counter" in result["pages"] and len(result["pages"]) >= 10
    heavy = sorted(m for m in result["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == [], f"imported while building the window (import these lazily, inside methods): {heavy}"
