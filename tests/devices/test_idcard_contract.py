"""Every driver passes the same contract: SAM serial (pty), sdtapi and termb (gcc library),
simulated."""

from __future__ import annotations

import ctypes
from types import SimpleNamespace

import pytest

from desktop.devices.idcard import samples
from desktop.devices.idcard.sam_serial import SamSerialReader
from desktop.devices.idcard.sdk import SdtApiReader, TermbReader
from desktop.devices.idcard.simulated import SimulatedReader
from tests.devices.idcard_contract import CardReaderContract


class TestSamSerialContract(CardReaderContract):
    @pytest.fixture
    def rig(self, fake_sam):
        reader = SamSerialReader(fake_sam.link_path, timeout_scale=0.2)
        yield SimpleNamespace(reader=reader, place=fake_sam.place_card, remove=fake_sam.remove_card,
                              unplug=fake_sam.unplug)
        reader.close()


def _sdt_place(vendor, spec):
    vendor.test_place(samples.encode_text(spec), samples.fake_wlt(spec))


class TestSdtApiContract(CardReaderContract):
    @pytest.fixture
    def rig(self, vendor, vendor_lib_path):
        reader = SdtApiReader(str(vendor_lib_path))
        yield SimpleNamespace(reader=reader, place=lambda s: _sdt_place(vendor, s),
                              remove=vendor.test_remove, unplug=lambda: vendor.test_unplug(1))
        reader.close()


TERMB_FIELDS = ("name", "sex", "nation", "birth", "address", "id_number", "issuer",
                "valid_from", "valid_to", "cert_type", "nation_code")


def termb_place(vendor, spec):
    from desktop.devices.idcard import tables

    values = {
        "name": spec.name, "sex": tables.sex_name(spec.sex_code),
        "nation": tables.NATION.get(spec.nation_code, ""), "birth": spec.birth,
        "address": spec.address, "id_number": spec.id_number, "issuer": spec.issuer,
        "valid_from": spec.valid_from, "valid_to": spec.valid_to,
        "cert_type": {"foreign_2017": "I", "foreign_2023": "Y", "hk_mo_tw": "J"}.get(spec.card_type, ""),
        "nation_code": spec.nation_code if spec.card_type == "resident" else "",
    }
    for i, key in enumerate(TERMB_FIELDS):
        vendor.test_set_field(i, ctypes.c_char_p(values[key].encode("gbk")))
    _sdt_place(vendor, spec)


class TestTermbContract(CardReaderContract):
    @pytest.fixture
    def rig(self, vendor, vendor_lib_path):
        reader = TermbReader(str(vendor_lib_path))
        yield SimpleNamespace(reader=reader, place=lambda s: termb_place(vendor, s),
                              remove=vendor.test_remove, unplug=lambda: vendor.test_unplug(1))
        reader.close()


class TestSimulatedContract(CardReaderContract):
    @pytest.fixture
    def rig(self):
        reader = SimulatedReader(read_delay=0)
        yield SimpleNamespace(reader=reader, place=reader.place_card, remove=reader.remove_card,
                              unplug=reader.unplug)
