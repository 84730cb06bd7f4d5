"""The payroll run's bulk-speed helpers (issue 20) write exactly what they replace: the
remembered JSON of instruction details equals a fresh encoding for any detail, in any order of
calls; the run's keys are unique and in creation order."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.services.payroll_rows import detail_encoder as _detail_encoder, id_stream as _id_stream

scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=16),
                   st.sampled_from(["2026-12", "2027-01", "", "恢复"]))
value = st.one_of(scalar, st.lists(st.sampled_from(["2026-11", "2026-12"]), max_size=3),
                  st.lists(scalar, max_size=3), st.dictionaries(st.sampled_from(["a", "b"]), scalar, max_size=2))
detail = st.dictionaries(st.sampled_from(["suspend_from", "months", "amount", "ledger", "missed_deadline"]), value,
                         max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.lists(detail, min_size=1, max_size=30))
def test_remembered_detail_json_equals_a_fresh_encoding(details):
    dumps = _detail_encoder()
    for d in details + details:  # every detail twice: the second from memory
        assert dumps(d) == json.dumps(d, ensure_ascii=False, sort_keys=True)


def test_run_keys_are_unique_and_ordered():
    ids = _id_stream()
    keys = [next(ids) for _ in range(5000)]
    assert len(set(keys)) == 5000 and keys == sorted(keys)


def test_alike_entitlements_share_a_plan_but_not_a_start(db, roster):
    """Entitlements with the same clock share one plan — except one that starts after the month:
    it gets its own answer (none)."""
    from datetime import date

    from desktop.domain.months import Month
    from desktop.services.payroll import PayrollService
    from desktop.services.settings import SettingsService

    same = [roster.add(roster.person(), "enterprise_retiree", date(2010, 1, 1), date(2025, 1, 10), 3000)
            for _ in range(3)]
    later = roster.add(roster.person(), "enterprise_retiree", date(2027, 1, 1), date(2025, 1, 10), 3000)
    roster.load(today=date(2027, 2, 1))
    with db.engine.connect() as conn:
        result = PayrollService(db, SettingsService(db)).compute(Month(2026, 3), conn, run_day=date(2026, 3, 5))
    suspended = {i["id_number"]: i for i in result.suspend}
    assert set(suspended) == set(same) and later not in suspended
    details = [{k: v for k, v in suspended[n].items() if k not in ("entitlement_id", "person_id", "id_number", "name")}
               for n in same]
    assert details[0] == details[1] == details[2] and details[0]["suspend_from"] == "2026-02"
