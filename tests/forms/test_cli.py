"""``certdesk --db URL forms …`` end to end (the real argument parser and services)."""

from __future__ import annotations

import json
from datetime import date

from desktop.cli import main
from tests.forms.conftest import sn

d = date


def cli(capsys, db_url, *args) -> tuple[int, dict]:
    import os

    from cli_auth import signed_env

    os.environ.update(signed_env(db_url))  # a scheduled job's sign-in (the autouse home fixture isolates the rest)
    try:
        code = main(["--db", db_url, "forms", *args])
    finally:
        os.environ.pop("CERTDESK_OPERATOR", None)
        os.environ.pop("CERTDESK_PASSWORD", None)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_issue_batch_receive_list(capsys, db, db_url, roster, tmp_path):
    a = roster.add("张秀兰", "enterprise_retiree", d(2025, 12, 10))
    b = roster.add("李淑珍", "enterprise_survivor", d(2026, 11, 15))
    c = roster.add("王德福", "enterprise_retiree", d(2025, 11, 20))
    roster.add("李本地", "enterprise_retiree", d(2025, 12, 5), residence="本地")
    roster.load()

    code, one = cli(capsys, db_url, "issue", c, "--pdf", str(tmp_path / "one.pdf"), "--as-of", "2026-11-02", "--json")
    assert code == 0 and one["serial"] == sn(1) and one["deadline"] == "2026-11-20"
    assert one["id_number"] != c and one["id_number"].endswith(c[-4:])

    code, batch = cli(capsys, db_url, "batch", "--due-within", "30", "--pdf", str(tmp_path / "batch.pdf"),
                      "--labels", str(tmp_path / "labels.pdf"), "--as-of", "2026-11-29", "--json")
    assert code == 0
    assert batch["forms"] == 2 and batch["serials"] == [sn(2), sn(3)]
    assert batch["pdf"].endswith("batch.pdf") and (tmp_path / "batch.pdf").is_file()
    assert (tmp_path / "labels.pdf").is_file()

    code, got = cli(capsys, db_url, "receive", "--image", str(tmp_path / "one.pdf"), "--body", "大连市西安路街道",
                    "--date", "2026-11-25", "--certifier", "王芳", "--as-of", "2026-11-29", "--json")
    assert code == 0
    assert got["accepted"] is True and got["serial"] == sn(1) and got["id_number"] == c
    assert got["reason"] == "accepted" and got["flags"] == ["returned_late", "certified_after_deadline"]

    code, again = cli(capsys, db_url, "receive", "--serial", sn(1), "--body", "x", "--date",
                      "2026-11-25", "--certifier", "y", "--as-of", "2026-11-29", "--json")
    assert code == 3 and again["accepted"] is False and again["reason"] == "already_received"

    code, future = cli(capsys, db_url, "receive", "--serial", sn(2), "--body", "x", "--date",
                       "2026-12-01", "--certifier", "y", "--as-of", "2026-11-29", "--json")
    assert code == 3 and future["reason"] == "future_date"

    code, out = cli(capsys, db_url, "list", "--outstanding", "--as-of", "2026-11-29", "--json")
    assert [f["serial"] for f in out["forms"]] == [sn(2), sn(3)]
    assert all(a not in json.dumps(out) and b not in json.dumps(out) for _ in [0])
    code, late = cli(capsys, db_url, "list", "--overdue", "--as-of", "2026-12-12", "--json")
    assert late["count"] == 1 and late["forms"][0]["serial"] == sn(2)
    assert late["forms"][0]["days_overdue"] == 2


def test_issue_unknown_person_is_an_error_in_json(capsys, db, db_url, tmp_path):
    code, doc = cli(capsys, db_url, "issue", "11010519491231002X", "--pdf", str(tmp_path / "x.pdf"), "--json")
    assert code == 4 and doc["error"] == "not_found"
    assert not (tmp_path / "x.pdf").exists()
