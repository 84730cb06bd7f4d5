"""ReaderBridge: a reader session on its own thread, events as Qt signals on the GUI thread."""

from __future__ import annotations

import threading
import time

import pytest

from desktop.devices.idcard.session import ReaderSession
from desktop.devices.idcard.simulated import SimulatedReader
from ui.reader_bridge import ReaderBridge

pytestmark = pytest.mark.gui


class SlowReader(SimulatedReader):
    """find_card blocks for a while, like a reader waiting for its timeout."""

    def find_card(self):
        time.sleep(0.3)
        return super().find_card()


@pytest.fixture
def make_bridge(qtbot):
    bridges = []

    def make(reader):
        bridge = ReaderBridge(lambda sink: ReaderSession(reader, sink, poll_interval=0.02,
                                                         reconnect_interval=0.05, failure_backoff=0.02))
        bridges.append(bridge)
        return bridge

    yield make
    for b in bridges:
        b.stop()
        assert b.wait(3)


def test_demo_card_shows_within_a_second_on_the_gui_thread(qtbot, make_bridge):
    reader = SimulatedReader()
    bridge = make_bridge(reader)
    received = []
    bridge.card_read.connect(lambda card: received.append((card, threading.current_thread())))
    with qtbot.waitSignal(bridge.reader_found, timeout=2000) as found:
        bridge.start()
    assert found.args[0].driver == "simulated"

    with qtbot.waitSignals([bridge.card_placed, bridge.card_read], order="strict", timeout=2000):
        t0 = time.monotonic()
        reader.place_card(0)
    assert time.monotonic() - t0 < 1.0
    card, thread = received[0]
    assert thread is threading.main_thread()
    assert card.name == "张建国" and card.photo_status == "unavailable"

    with qtbot.waitSignal(bridge.card_removed, timeout=2000):
        reader.remove_card()


def test_unplug_mid_session_gives_message_and_recovers(qtbot, make_bridge):
    reader = SimulatedReader()
    bridge = make_bridge(reader)
    with qtbot.waitSignal(bridge.reader_found, timeout=2000):
        bridge.start()
    with qtbot.waitSignal(bridge.reader_lost, timeout=2000) as lost:
        reader.unplug()
    assert "断开" in lost.args[0]
    with qtbot.waitSignal(bridge.reader_found, timeout=2000):
        reader.plug()
    with qtbot.waitSignal(bridge.card_read, timeout=2000):
        reader.place_card(1)


def test_read_failure_is_reported(qtbot, make_bridge):
    reader = SimulatedReader()
    bridge = make_bridge(reader)
    with qtbot.waitSignal(bridge.reader_found, timeout=2000):
        bridge.start()
    reader.fail_next_read()
    with qtbot.waitSignal(bridge.read_failed, timeout=2000) as failed:
        reader.place_card(0)
    assert "读卡失败" in failed.args[0]
    with qtbot.waitSignal(bridge.card_read, timeout=2000):
        pass  # it retries while the card stays on the reader


def test_gui_thread_never_waits_on_the_device(qtbot, make_bridge):
    bridge = make_bridge(SlowReader())
    with qtbot.waitSignal(bridge.reader_found, timeout=2000):
        bridge.start()
    time.sleep(0.05)  # the device thread is now inside a blocking find_card
    t0 = time.monotonic()
    bridge.stop()
    assert time.monotonic() - t0 < 0.05
    assert bridge.wait(2) and not bridge.running


def test_missing_reader_reports_lost(qtbot, make_bridge):
    reader = SimulatedReader()
    reader.unplug()
    bridge = make_bridge(reader)
    with qtbot.waitSignal(bridge.reader_lost, timeout=2000) as lost:
        bridge.start()
    assert "未找到读卡器" in lost.args[0]


def test_absent_reader_is_reported_and_found_later(qtbot):
    """No reader at start: a clear message, no exception; plugged in later: found and reading."""
    from desktop.devices.base import ReaderNotFound
    from desktop.devices.registry import ReaderConfig, build_session
    from ui.reader_bridge import ReaderBridge

    attempts = {"n": 0}

    def factory(sink):
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise ReaderNotFound("未检测到身份证读卡器，请检查连接或在设置中指定端口")
        return build_session(ReaderConfig(driver="simulated"), sink)

    bridge = ReaderBridge(factory)
    bridge.RETRY_SECONDS = 0.05
    lost = []
    bridge.reader_lost.connect(lost.append)
    with qtbot.waitSignal(bridge.reader_found, timeout=5000):
        bridge.start()
    assert lost and "读卡器" in lost[0]
    assert attempts["n"] == 3
    with qtbot.waitSignal(bridge.card_read, timeout=5000) as blocker:
        bridge.submit(bridge.session.reader.place_card, 0)
    assert blocker.args[0].id_number
    bridge.stop()
    assert bridge.wait(5)
