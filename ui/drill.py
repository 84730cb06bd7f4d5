"""``certdesk demo --drill N [--json]``: N complete certifications through the real counter widgets
— the page is a view of :class:`desktop.counter.flow.CounterFlow`, so the drill drives the same
flow the tests drive headless (tests/counter/test_headless_flow.py) — with the simulated reader
and camera (offscreen is fine), timed from the card on the reader to the printed receipt. The
records stay in the demo database.

Prints ``{"certified": n, "failed": n, "median_seconds": x, "p95_seconds": x, "failures": [...]}``;
each failure says which step did not finish (``card``, ``face_check``, ``receipt``, ``print``), the
counter's state and the banner the clerk would have read (e.g. why the receipt could not be
rendered). The exit status is 1 when any certification failed.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import date


def _wait(app, pred, timeout: float) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        app.processEvents()
        if pred():
            return True
        time.sleep(0.002)
    return False


def run_drill(n: int, *, db_url: str | None, as_of: date, as_json: bool = True, demo_persons: int = 3000,
              frames_per_step: int = 2) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.platform import runmode

    runmode.set_mode(runmode.DEMO)
    from PySide6.QtWidgets import QApplication

    from desktop.counter.station import build_demo_station, prepare_counter
    from ui import workers
    from ui.pages.counter import CounterPage
    from ui.resident_screen import PromptSpeaker, ResidentScreen
    from ui.startup import open_backend, setup_application

    app = QApplication.instance() or QApplication(sys.argv[:1])
    setup_application(app)
    backend = open_backend(db_url, True, as_of, lambda pct, text: None, demo_persons)
    services = backend.services
    from desktop.platform.workstation import workstation_id

    ws = workstation_id()
    info = prepare_counter(services, True, ws, as_of)
    cards = list(info.demo_cards[:-2] or info.demo_cards)  # the last two are sample cards not on the roster
    resident = ResidentScreen(PromptSpeaker(use_tts=False, use_audio=False))  # timings, not sound
    resident.resize(800, 600)
    station = build_demo_station(cards=cards, frames_per_step=frames_per_step, pace_fps=60)
    from dataclasses import replace

    backend = replace(backend, station=station)
    page = CounterPage()
    page.set_resident_screen(resident)
    page.resize(1440, 900)
    page.show()
    op = services.operators.login("zhangmin", "Demo2026", ws)
    page.set_operator(op, ws)
    page.set_backend(backend)
    _wait(app, lambda: page.reader_ok and page.camera_ready, 10)  # the camera opens on a worker
    times, failed, failures = [], 0, []
    reader = page.bridge.session.reader
    removed = [0]
    page.bridge.card_removed.connect(lambda: removed.__setitem__(0, removed[0] + 1))
    certified = [0]  # the counter recorded a certification (its receipt comes next)
    page.certified.connect(lambda _result: certified.__setitem__(0, certified[0] + 1))
    for i in range(n):
        t0 = time.perf_counter()
        reader.place_card(i % len(cards))
        step = "card"
        ok = _wait(app, lambda: page.state == "person", 10)
        if ok:
            before_cert = certified[0]
            page.primary_action()  # Enter: face check
            step = "face_check"
            ok = _wait(app, lambda: certified[0] > before_cert, 20)
            if ok:
                step = "receipt"  # the certification is recorded; the receipt PDF is rendered next
                ok = _wait(app, lambda: page.state == "done" and page.preview is not None
                           and page.preview.isVisible() and page.preview.image is not None, 10)
        if ok:
            step = "print"
            page.preview.print_button.click()
            ok = _wait(app, lambda: page.state == "printed", 5)
        if ok:
            times.append(time.perf_counter() - t0)
        else:
            failed += 1
            failure = {"resident": i + 1, "step": step, "state": page.state, "reason": page.banner.text()}
            failures.append(failure)
            print(f"drill {i + 1}: {step} did not finish (state {page.state}): {failure['reason']}", file=sys.stderr)
        before = removed[0]
        reader.remove_card()  # the resident takes the card back
        _wait(app, lambda: removed[0] > before, 3)
        page.primary_action() if page.state == "printed" else page.next_resident()
        page.preview = None
        _wait(app, lambda: page.state == "idle", 5)
    page.shutdown()
    workers.wait_for_idle(30_000)
    page.deleteLater()
    resident.deleteLater()
    app.processEvents()
    times.sort()
    out = {"certified": len(times), "failed": failed,
           "median_seconds": round(statistics.median(times), 3) if times else None,
           "p95_seconds": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 3) if times else None,
           "failures": failures}
    if as_json:
        print(json.dumps(out))
    else:
        print(f"认证 {out['certified']} 人，失败 {out['failed']}，中位数 {out['median_seconds']} 秒，P95 {out['p95_seconds']} 秒")
    return out
