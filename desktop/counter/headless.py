"""The counter without a window: the same :class:`~desktop.counter.flow.CounterFlow` and
:class:`~desktop.counter.station.Station` the window uses, driven step by step on the caller's
thread (tests, scripts). The reader session is stepped here instead of on a device thread, the
face check runs :func:`~desktop.counter.stream.feed_newest` here instead of on a worker."""

from __future__ import annotations

import time

from desktop.counter.flow import CounterFlow, Event, run_now
from desktop.counter.receipt import write_receipt
from desktop.counter.stream import feed_newest
from desktop.devices.base import CardPlaced, CardRead, CardRemoved, ReadFailed, ReaderFound
from desktop.face.session import FaceCheckResult


class HeadlessCounter:
    def __init__(self, counter, station, actor, as_of):
        self.station = station
        self.events: list[Event] = []
        self.flow = CounterFlow(counter, as_of, actor=lambda: actor, run=run_now, on_event=self.events.append)
        self._reader_events: list = []
        self.session = station.reader_session_factory(self._reader_events.append)
        self.camera = station.camera_factory()
        self.flow.can_enrol = lambda: station.enrolment is not None
        self.flow.camera_opened(True)
        self.printed: list[str] = []

    @property
    def reader(self):
        return self.session.reader

    def _step_reader(self, until, timeout: float = 5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.session.step()
            while self._reader_events:
                ev = self._reader_events.pop(0)
                if isinstance(ev, ReaderFound):
                    self.flow.reader_found()
                elif isinstance(ev, CardPlaced):
                    self.flow.card_placed()
                elif isinstance(ev, CardRead):
                    self.flow.card_read(ev.card)
                elif isinstance(ev, ReadFailed):
                    self.flow.read_failed(ev.message_zh)
                elif isinstance(ev, CardRemoved):
                    self.flow.card_removed()
                if until(ev):
                    return ev
        raise TimeoutError("the reader did not answer")

    def place(self, card) -> None:
        """A resident puts a card (a CardSpec or an index into the station's cards) on the reader."""
        self.reader.place_card(card)
        self._step_reader(lambda ev: isinstance(ev, (CardRead, ReadFailed)))

    def face_check(self) -> FaceCheckResult | None:
        """Enter on a resident: the station's face session on the camera's newest frames."""
        flow = self.flow
        try:
            session = self.station.face_session_factory(flow.card, flow.lookup)
        except Exception as exc:  # noqa: BLE001 - the same refusal the window shows
            flow.face_session_refused(exc)
            return None
        flow.face_started()
        results: list = []
        feed_newest(self.camera, session, lambda ev: results.append(ev) if isinstance(ev, FaceCheckResult) else None)
        result = results[-1] if results else None
        if result is not None:
            flow.face_finished(result)
        else:
            flow.face_cancelled()
        return result

    def print_receipt(self) -> str:
        path = write_receipt(self.flow.result)
        try:
            text = self.station.printer.print_file(path)
        finally:
            path.unlink(missing_ok=True)
        self.printed.append(text)
        self.flow.receipt_printed(text)
        return text

    def take_card_back(self) -> None:
        self.reader.remove_card()
        self._step_reader(lambda ev: isinstance(ev, CardRemoved))

    def serve(self, card, attempts: int = 3):
        """One resident from card to receipt by face (up to ``attempts`` checks): returns the
        CounterResult, or None when nobody was certified."""
        self.place(card)
        for _ in range(attempts):
            if self.flow.primary() != "face":
                break
            self.face_check()
        if self.flow.state == "done":
            self.print_receipt()
        result = self.flow.result
        self.take_card_back()
        self.flow.next_resident()
        return result

    def close(self) -> None:
        self.camera.stop()
        self.session.close()
