"""Counter drill: N complete certifications through the real widgets (simulated reader and camera,
offscreen), card on the reader → printed receipt. Target: median ≤ 2 s machine time each.

    uv run python bench/bench_drill.py [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20

with tempfile.TemporaryDirectory() as home:
    env = {**os.environ, "CERTDESK_HOME": home, "QT_QPA_PLATFORM": "offscreen"}
    cmd = [sys.executable, "-m", "ui", "demo", "--drill", str(N), "--json", "--demo-persons", "600",
           "--as-of", "2026-11-29"]
    proc = subprocess.run(cmd, cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True,
                          timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("{")), None)
    if line is None:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        sys.exit(1)
    out = json.loads(line)
    verdict = "OK" if out["median_seconds"] is not None and out["median_seconds"] <= 2.0 else "SLOWER THAN TARGET"
    print(f"drill: {out['certified']} certified, {out['failed']} failed; median {out['median_seconds']} s, "
          f"p95 {out['p95_seconds']} s per certification (target median ≤ 2 s: {verdict})")
    print(json.dumps(out))
