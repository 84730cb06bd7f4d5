"""CardReaderContract: behaviour every reader driver must show (Dangerzone-style contract).

A subclass provides a ``rig`` fixture yielding an object with ``reader``, ``place(spec)``,
``remove()`` and ``unplug()``.
"""

from __future__ import annotations

import pytest

from desktop.devices.base import CardReader, CardReadError, DeviceInfo, ReaderError
from desktop.devices.idcard import samples

CARDS = samples.demo_cards()


class CardReaderContract:
    def test_is_a_card_reader_and_opens(self, rig):
        assert isinstance(rig.reader, CardReader)
        info = rig.reader.open()
        assert isinstance(info, DeviceInfo) and info.driver == rig.reader.driver
        assert rig.reader.is_open

    def test_close_is_idempotent(self, rig):
        rig.reader.open()
        rig.reader.close()
        rig.reader.close()
        assert not rig.reader.is_open

    def test_no_card_is_false_not_an_error(self, rig):
        rig.reader.open()
        assert rig.reader.find_card() is False

    @pytest.mark.parametrize("index", range(len(CARDS)))
    def test_reads_every_layout(self, rig, index):
        spec = CARDS[index]
        rig.reader.open()
        rig.place(spec)
        assert rig.reader.find_card() is True
        card = rig.reader.read_card()
        assert card.id_number == spec.id_number and card.name == spec.name
        assert card.card_type == spec.card_type
        assert card.source == rig.reader.driver

    def test_card_removal_is_seen(self, rig):
        rig.reader.open()
        rig.place(CARDS[0])
        assert rig.reader.find_card()
        rig.reader.read_card()
        rig.remove()
        assert rig.reader.find_card() is False

    def test_read_without_card_raises_read_error(self, rig):
        rig.reader.open()
        with pytest.raises(CardReadError) as info:
            rig.reader.read_card()
        assert info.value.message_zh

    def test_calls_after_close_raise_reader_error(self, rig):
        rig.reader.open()
        rig.reader.close()
        with pytest.raises(ReaderError):
            rig.reader.find_card()

    def test_unplugged_reader_cannot_open(self, rig):
        rig.unplug()
        with pytest.raises(ReaderError) as info:
            rig.reader.open()
        assert info.value.message_zh
