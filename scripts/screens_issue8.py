"""Screenshots of the bureau pages on the demo data (offscreen): screenshots/dashboard-*.png.

    uv run python scripts/screens_issue8.py [--persons 3000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TODAY = date(2026, 11, 29)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=3000)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    os.environ.setdefault("CERTDESK_HOME", tempfile.mkdtemp(prefix="certdesk-screens-"))
    from desktop.demo import build_demo_database
    from desktop.demo_bureau import add_counter_history, add_outreach
    from desktop.services.database import Database
    from desktop.services.hub import Services

    path = Path(args.db or Path(tempfile.mkdtemp()) / "demo.sqlite")
    fresh = not path.exists()
    db = Database.open(str(path))
    if fresh:
        t = time.perf_counter()
        build_demo_database(db, persons=args.persons, today=TODAY)
        add_counter_history(db, TODAY)
        add_outreach(db, TODAY)
        print(f"demo database {path} built in {time.perf_counter() - t:.1f} s")

    from PySide6.QtWidgets import QApplication

    from ui.app import setup_application
    from ui.models.backend import Backend

    app = QApplication([])
    setup_application(app)
    s = Services(db)
    backend = Backend(s.persons, s.lists, TODAY, True, str(path), s)
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)

    from ui.long_task import wait_for_long_tasks
    from ui.pages.dashboards import DashboardsPage
    from ui.pages.outreach import OutreachPage

    def settle(pred, timeout=60):
        end = time.time() + timeout
        while not pred() and time.time() < end:
            app.processEvents()
            time.sleep(0.02)
        wait_for_long_tasks(1000)
        for _ in range(20):
            app.processEvents()

    page = DashboardsPage()
    page.set_backend(backend)
    page.resize(1600, 1180)
    page.show()
    page.activated()
    settle(lambda: page.dashboard is not None)
    page.grab().save(str(out / "dashboard-overview.png"))
    for key, view in page.views.items():
        view.resize(900, 480)
    for key in ("coverage", "by_method", "face"):
        page.views[key].grab().save(str(out / f"dashboard-{key.replace('_', '-')}.png"))
    print("dashboard screenshots written")

    o = OutreachPage()
    o.set_backend(backend)
    o.resize(1500, 900)
    o.show()
    o.activated()
    settle(lambda: bool(o.shown_rows()))
    o.grab().save(str(out / "outreach-list.png"))

    for name in ("payroll_month", "recoveries"):
        try:
            mod = __import__(f"ui.pages.{name}", fromlist=["PAGE_SPEC"])
        except ImportError:
            continue
        p = mod.PAGE_SPEC["cls"]()
        p.set_backend(backend)
        p.resize(1500, 900)
        p.show()
        if hasattr(p, "activated"):
            p.activated()
        settle(lambda: getattr(p, "ready", True), 60)
        p.grab().save(str(out / f"{name.replace('_', '-')}.png"))
    print("done")


if __name__ == "__main__":
    main()
