"""Benchmark: decode a 1,295-byte 30 01 reply (frame check + payload parse + checks).

Run: ``uv run python bench/bench_idcard_decode.py``. Prints µs per decode; the target in
issue 3 is ≤ 1 ms. Not a timed test: numbers vary with the machine and its load.
"""

from __future__ import annotations

import os
import sys
import timeit
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("CERTDESK_MODE", "test")

from desktop.devices.idcard import codec, parser, samples  # noqa: E402
from desktop.devices.idcard.inspect import describe_frame  # noqa: E402

TODAY = date(2026, 11, 29)


def main() -> None:
    frame = samples.build_read_reply(samples.demo_cards()[0])
    assert len(frame) == 1295

    def full() -> None:
        reply = codec.parse_reply(frame)
        parser.parse_read_data(reply.data, fingerprint=False, today=TODAY)

    def streamed() -> None:  # the driver's path: reassemble from 64-byte pieces, then parse
        dec = codec.FrameDecoder()
        for i in range(0, len(frame), 64):
            dec.feed(frame[i : i + 64])
        reply = codec.parse_reply(dec.next_frame())
        parser.parse_read_data(reply.data, fingerprint=False, today=TODAY)

    cases = [
        ("codec.parse_reply (framing + XOR)", lambda: codec.parse_reply(frame)),
        ("parse_reply + parse_read_data (full decode)", full),
        ("FrameDecoder 64-byte pieces + full decode", streamed),
        ("describe_frame (CLI path)", lambda: describe_frame(frame, today=TODAY)),
    ]
    full()  # warm the region table cache (first-call cost is one-off)
    print(f"1,295-byte reply, Python {sys.version.split()[0]}")
    for name, fn in cases:
        n = 2000
        best = min(timeit.repeat(fn, number=n, repeat=5)) / n
        print(f"{best * 1e6:9.1f} µs per decode  {name}")


if __name__ == "__main__":
    main()
