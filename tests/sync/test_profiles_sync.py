"""Import source profiles travel like the settings (issue 21 §2): saved on one workstation,
pushed to the central PostgreSQL, pulled by another — and a newer save wins."""

from __future__ import annotations

import pytest
from helpers import Workstation

from desktop.services.profiles import ProfileService
from desktop.platform.workstation import Actor

HEADER = ["姓名", "证件号", "享受类别", "待遇享受起始年月"]


@pytest.fixture
def stations(central_url, tmp_path):
    made = [Workstation(n, tmp_path / f"{n}.sqlite", central_url) for n in ("ws-a", "ws-b")]
    yield made
    for ws in made:
        ws.close()


def test_a_profile_saved_on_one_workstation_reaches_the_other(stations):
    a, b = stations
    sup = Actor("sup-a", "ws-a", "supervisor")
    columns = {"证件号": "公民身份号码", "享受类别": "认证对象", "待遇享受起始年月": "待遇开始日期"}
    ProfileService(a.db).save("省系统花名册", "roster", columns, HEADER, sup)
    assert a.sync.sync_once().pushed >= 1
    b.sync.sync_once()
    got = ProfileService(b.db).get("省系统花名册")
    assert got.columns == columns and got.header == HEADER and got.updated_by == "sup-a"
    assert ProfileService(b.db).matching("roster", HEADER).name == "省系统花名册"

    ProfileService(b.db).save("省系统花名册", "roster", {**columns, "姓名": "姓名"}, HEADER,
                              Actor("sup-b", "ws-b", "supervisor"))
    b.sync.sync_once()
    a.sync.sync_once()
    assert ProfileService(a.db).get("省系统花名册").columns["姓名"] == "姓名"  # the newer save wins
