"""The streamed JSON of big answers (``certdesk payroll --json``, issue 20): the same document as
``emit`` gives, piece by piece."""

from __future__ import annotations

import io
import json
from datetime import date

from desktop.cli import emit, emit_stream


def test_a_streamed_document_reads_back_as_the_document(capsys):
    evil = '引号"反斜杠\\换行\n\u2028制表\t</script>'
    doc = {"month": "2026-12", "run_day": date(2026, 12, 5), "empty": [], "flag": False, evil: evil,
           "suspend": [{"name": evil if k % 997 == 0 else f"张{k}", "paid_while_overdue": [f"2026-{m:02d}" for m in range(1, k % 5)],
                        "amount": k / 100, "none": None} for k in range(4_500)],
           "nested": {"a": [1, 2, {"b": evil}]}, "one": [{"x": 1}]}
    out = io.StringIO()
    emit_stream(doc, out=out)
    text = out.getvalue()
    emit(doc)
    assert json.loads(text) == json.loads(capsys.readouterr().out)
    assert text.endswith("}\n") and text.count("\n") > 4_500  # one instruction a line
    assert json.loads(text)["suspend"][997]["name"] == evil
