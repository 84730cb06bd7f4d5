"""One I/O thread per physical device (Electrum's hardware-wallet thread, in small).

The thread alternates between running submitted calls and one ``step()`` of a polling loop
(e.g. :meth:`ReaderSession.step`), sleeping for the delay the step asked for — or less, if a
call is submitted meanwhile. Nobody else touches the device, so drivers need no locks; other
threads talk to it through :meth:`DeviceIOThread.submit` (returns a ``concurrent.futures.Future``)
and receive events through the session's sink. :meth:`stop` never blocks, so the GUI thread
never waits on a device.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Callable

log = logging.getLogger(__name__)


class DeviceIOThread:
    def __init__(self, step: Callable[[], float] | None = None, *, name: str = "device-io",
                 on_exit: Callable[[], None] | None = None, idle_delay: float = 0.5) -> None:
        self._step = step
        self._on_exit = on_exit
        self._idle = idle_delay
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "DeviceIOThread":
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def is_current(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, fn: Callable, *args, **kwargs) -> Future:
        future: Future = Future()
        self._calls.put((future, fn, args, kwargs))
        return future

    def stop(self) -> None:
        """Ask the loop to finish (after the current exchange); returns at once."""
        self._stop.set()
        self._calls.put(None)  # wake it

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _drain(self, timeout: float) -> None:
        try:
            item = self._calls.get(timeout=max(0.0, timeout)) if timeout > 0 else self._calls.get_nowait()
        except queue.Empty:
            return
        while item is not None:
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:
                    future.set_exception(exc)
            try:
                item = self._calls.get_nowait()
            except queue.Empty:
                return

    def _run(self) -> None:
        delay = 0.0
        try:
            while not self._stop.is_set():
                self._drain(delay)
                if self._stop.is_set():
                    break
                delay = self._step() if self._step else self._idle
        except Exception:
            log.exception("device thread crashed")
        finally:
            if self._on_exit:
                try:
                    self._on_exit()
                except Exception:
                    log.exception("device close failed")
            while True:  # fail whatever was still queued
                try:
                    item = self._calls.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].set_exception(RuntimeError("device thread stopped"))


def runs_on_device_thread(method):
    """Mark a method that must run on ``self.io_thread``; from another thread it is submitted
    there and a Future is returned."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        io: DeviceIOThread = self.io_thread
        if io.is_current():
            return method(self, *args, **kwargs)
        return io.submit(method, self, *args, **kwargs)

    return wrapper
