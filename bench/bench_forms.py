"""Benchmark: assist forms per second in a batch of 1,000, and ms to read a QR from a 150-dpi scan.

    uv run python bench/bench_forms.py [--n 1000]

Prints numbers; not a test. Targets (issue 6): >= 100 forms/s; QR read <= 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402

from desktop.formats import qrsign, scan  # noqa: E402
from desktop.domain.idnumber import make_number  # noqa: E402
from desktop.printing.assist_form import render_forms  # noqa: E402
from desktop.printing.data import BureauInfo, FormData  # noqa: E402
from desktop.printing.fonts import register_cjk_font  # noqa: E402


def make_forms(n: int, kp) -> list[FormData]:
    out = []
    for i in range(1, n + 1):
        idn = make_number("152202", date(1940 + i % 30, 1 + i % 12, 1 + i % 28), i % 1000)
        serial = f"XZ2026-{i:06d}"
        out.append(FormData(serial, qrsign.make_payload(serial, idn, date(2026, 12, 31), kp),
                            ["张秀兰", "欧阳建国", "巴特尔"][i % 3], "F" if i % 2 else "M", idn,
                            "养老资格认证（企业离退休人员）", f"139{i:08d}",
                            f"辽宁省大连市沙河口区西安路街道锦绣社区幸福家园小区{i % 40 + 1}号楼3单元502室",
                            date(2026, 12, 31), date(2026, 11, 29), "116021"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--reads", type=int, default=30)
    args = ap.parse_args()
    kp = qrsign.static_key_provider(b"bench-key-0123456789abcdef012345")
    bureau = BureauInfo(return_address="内蒙古自治区兴安盟阿尔山市新城街社会保险事业服务中心",
                        return_postcode="137800")
    t = time.perf_counter()
    register_cjk_font()
    print(f"font registration (once):       {1000 * (time.perf_counter() - t):7.1f} ms")
    t = time.perf_counter()
    forms = make_forms(args.n, kp)
    print(f"sign {args.n} payloads:           {1000 * (time.perf_counter() - t):7.1f} ms")

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "batch.pdf"
        t = time.perf_counter()
        res = render_forms(forms, bureau, out)
        dt = time.perf_counter() - t
        print(f"batch of {res.count} forms ({res.pages} pages, {out.stat().st_size / 1e6:.1f} MB): "
              f"{dt:.2f} s = {res.count / dt:.0f} forms/s  (target >= 100)")

        pdf = pdfium.PdfDocument(str(out))
        bm = pdf[0].render(scale=150 / 72, fill_color=(255, 255, 255, 255), grayscale=True)
        arr = bm.to_numpy()
        page150 = np.ascontiguousarray(arr if arr.ndim == 2 else arr[..., 0])
        pdf.close()
    scan_path = Path(tempfile.gettempdir()) / "certdesk-bench-scan150.png"
    cv2.imwrite(str(scan_path), page150)

    def timed(fn, k):
        ts = []
        for _ in range(k):
            t = time.perf_counter()
            r = fn()
            ts.append(1000 * (time.perf_counter() - t))
            assert r and qrsign.verify(r[0].text, kp).ok
        return statistics.median(ts), max(ts)

    med, mx = timed(lambda: scan.decode_frame(page150), args.reads)
    print(f"QR read, 150-dpi page in memory: median {med:6.1f} ms, max {mx:6.1f} ms  (target <= 100)")
    med, mx = timed(lambda: scan.decode_file(scan_path), args.reads)
    print(f"QR read, 150-dpi PNG file:       median {med:6.1f} ms, max {mx:6.1f} ms")
    # a rough photograph: blurred, rotated, unevenly lit
    h, w = page150.shape
    img = cv2.warpAffine(page150, cv2.getRotationMatrix2D((w / 2, h / 2), 14, 0.9), (w, h),
                         borderValue=90)
    img = cv2.GaussianBlur(img, (0, 0), 1.3).astype(np.float32)
    img *= np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :]
    img = np.clip(img, 0, 255).astype(np.uint8)
    med, mx = timed(lambda: scan.decode_frame(img), max(5, args.reads // 3))
    print(f"QR read, rotated/blurred/shaded: median {med:6.1f} ms, max {mx:6.1f} ms")


if __name__ == "__main__":
    main()
