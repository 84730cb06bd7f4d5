"""The camera loop of a face check, Qt-free: always the newest frame into the session, frames that
arrived meanwhile dropped (face work costs far more than a frame interval: docs/face.md). The
window runs it on a worker through :func:`ui.workers.stream`; the headless flow calls it directly."""

from __future__ import annotations

from typing import Callable


def feed_newest(source, session, emit: Callable[[object], None], running: Callable[[], bool] = lambda: True) -> int:
    """Feed ``source``'s newest frames to ``session`` until it finishes, the source ends or
    ``running()`` says stop; every session event goes to ``emit`` (on this thread). Returns the
    number of frames analysed."""
    last, analysed = 0, 0
    while running() and not session.finished:
        frame = source.wait_next(last, timeout=0.2)
        if frame is None:
            if getattr(source, "ended", False):
                break
            continue
        last = frame.index
        for event in session.feed(frame.image):
            emit(event)
        analysed += 1
    return analysed
