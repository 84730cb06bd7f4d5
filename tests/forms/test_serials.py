"""Serials carry a workstation tag: two workstations with their own databases (synced later) never
hand out the same serial; serials printed before the tag existed stay valid."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import text

from desktop.formats import qrsign
from desktop.services.database import Database
from desktop.services.forms import FormService, workstation_tag
from desktop.services.hub import Services
from tests.forms.conftest import ACTOR, TODAY, Roster

d = date


def _site(tmp_path, name: str, ws: str, key) -> tuple[FormService, list[str]]:
    folder = tmp_path / name
    folder.mkdir()
    db = Database.open(f"sqlite:///{folder / 'ws.sqlite'}")
    roster = Roster(db, folder)
    numbers = [roster.add("测试" + "甲乙丙丁戊"[i], "enterprise_retiree", d(2025, 12, 1 + i)) for i in range(5)]
    roster.load()
    s = Services(db)
    return FormService(db, key, persons=s.persons, settings=s.settings, resumptions=s.resumptions,
                       workstation_id=ws), numbers


def test_two_workstations_never_share_a_serial(tmp_path):
    key = qrsign.static_key_provider(b"the-bureau-key-shared-by-both-ws!")
    a, numbers_a = _site(tmp_path, "a", "COUNTER-01-1a2b3c4d", key)
    b, numbers_b = _site(tmp_path, "b", "COUNTER-02-9f8e7d6c", key)
    assert a.workstation_tag != b.workstation_tag
    # the same roster, the same year, the same sequence numbers on both sides
    sa = [a.issue(n, ACTOR, tmp_path / f"a{i}.pdf", today=TODAY).serial for i, n in enumerate(numbers_a)]
    sb = b.batch(30, ACTOR, tmp_path / "b.pdf", as_of=TODAY).serials
    assert len(sa) == len(sb) == 5
    assert not set(sa) & set(sb)
    for serials, svc in ((sa, a), (sb, b)):
        assert [s[-6:] for s in serials] == [f"{i:06d}" for i in range(1, 6)]
        for s in serials:
            assert re.fullmatch(r"AES-2026-[0-9A-Z]{4}-\d{6}", s) and qrsign.SERIAL_RE.match(s)
            assert s.startswith(svc.serial_prefix(2026))
    # a QR payload with a tagged serial is valid and verifies
    payload = qrsign.make_payload(sa[0], numbers_a[0], d(2026, 12, 1), key)
    assert qrsign.verify(payload, key).serial == sa[0]
    # after a sync both sets live in one table: each side keeps numbering its own prefix
    with a.db.engine.begin() as conn:
        conn.execute(text("update assist_forms set serial = :new where serial = :old"),
                     {"new": sb[-1][:-6] + "000099", "old": sa[-1]})
    with a.db.engine.connect() as conn:
        assert a._next_serials(conn, 1, 2026) == [sa[-2][:-6] + "000005"]
    a.db.dispose()
    b.db.dispose()


def test_tag_is_stable_and_from_the_workstation_id(tmp_path):
    from desktop.platform.workstation import workstation_id

    assert workstation_tag("x") == workstation_tag("x") and len(workstation_tag("x")) == 4
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}", workstation_tag("PC-前台-1"))
    tags = {workstation_tag(f"counter-{i}") for i in range(200)}
    assert len(tags) == 200  # 20 bits: no collision among a bureau's workstations here
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert Services(db).forms.workstation_tag == workstation_tag(workstation_id())
    db.dispose()


def test_old_untagged_serials_stay_valid(db, roster, forms, tmp_path):
    a = roster.add("张秀兰", "enterprise_retiree", d(2025, 12, 10))
    b = roster.add("李淑珍", "enterprise_retiree", d(2025, 12, 12))
    roster.load()
    issued = forms.issue(a, ACTOR, tmp_path / "a.pdf", today=d(2026, 11, 2))
    old = "AES-2026-000123"  # printed by an older version
    with db.engine.begin() as conn:
        conn.execute(text("update assist_forms set serial = :o where serial = :s"), {"o": old, "s": issued.serial})
    # the reprint carries the old serial in a freshly signed QR, and receiving it works
    again = forms.reprint(old, ACTOR, tmp_path / "again.pdf")
    assert again.serial == old
    res = forms.receive(image_path=again.pdf, body_name="街道社区服务中心", body_date=d(2026, 11, 20),
                        certifier="王芳", actor=ACTOR, today=TODAY)
    assert res.accepted and res.serial == old
    # the next new form is tagged and numbered on its own prefix
    nxt = forms.issue(b, ACTOR, tmp_path / "b.pdf", today=TODAY).serial
    assert nxt == forms.serial_prefix(2026) + "000001"
    # typed with O for 0 / I for 1 in the tag, a tagged serial is still found
    typo = nxt.split("-")
    typo[2] = typo[2].replace("0", "O").replace("1", "I")
    chk = forms.check(text="-".join(typo).lower())
    assert chk.serial == nxt and chk.reason == "ok" and chk.flags == ("typed_serial",)
