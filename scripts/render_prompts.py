"""Record every spoken prompt to WAV with espeak-ng's Mandarin voice — once, by a developer, when
a prompt text changes; the WAVs are committed, so neither the tests, the build nor a counter PC
needs espeak-ng.

    uv run python scripts/render_prompts.py [--out resources/audio]     # re-record (needs espeak-ng)
    uv run python scripts/render_prompts.py --check                     # are the recordings current?

Writes ``<code>.wav`` (normal speed) and ``<code>@slow.wav`` (for the elderly; the resident screen's
default) for every prompt code of desktop/face (session, liveness, triage advice) and the counter,
as 16 kHz mono 16-bit PCM with the silence at both ends cut (what QSoundEffect plays natively;
~14 MB for 24 prompts x 2 speeds), and ``prompts.json``: code -> text and files, so ``--check``
(and tests/ui/test_resident_screen.py) notice a prompt whose text changed after it was recorded.
The resident screen plays them with QSoundEffect when no QtTextToSpeech voice exists
(ui/resident_screen.py). Recording needs ``espeak-ng`` (Debian: ``apt-get install -y espeak-ng``;
Windows: the espeak-ng MSI, or ESPEAK_NG=path\\to\\espeak-ng.exe).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEEDS = {"": 150, "@slow": 105}   # espeak-ng words per minute; file suffix -> speed
VOICE = "cmn"                       # espeak-ng's Mandarin Chinese
RATE = 16000                        # Hz of the committed files (espeak-ng writes 22050)
MANIFEST = "prompts.json"
SILENCE = 200                       # |sample| below this at either end is cut ...
MARGIN_S = 0.05                     # ... keeping this much of it

def prompt_texts() -> dict[str, str]:
    """code -> text, the same codes the face session and the counter send to the resident screen
    (the one catalogue: desktop/prompts.py)."""
    from desktop.prompts import chinese_texts

    return chinese_texts()


def espeak_binary() -> str | None:
    return os.environ.get("ESPEAK_NG") or shutil.which("espeak-ng")


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit samples, expected 16")
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64)
        if w.getnchannels() > 1:
            x = x.reshape(-1, w.getnchannels()).mean(axis=1)
        return x, w.getframerate()


def trim_and_resample(x: np.ndarray, rate: int, out_rate: int = RATE) -> np.ndarray:
    """Cut the silence at both ends (keeping MARGIN_S) and resample (FFT; band-limited)."""
    loud = np.nonzero(np.abs(x) > SILENCE)[0]
    if loud.size:
        pad = int(MARGIN_S * rate)
        x = x[max(0, loud[0] - pad):loud[-1] + pad]
    if rate != out_rate and x.size:
        n = max(1, int(round(x.size * out_rate / rate)))
        spectrum = np.fft.rfft(x)[: n // 2 + 1]
        x = np.fft.irfft(spectrum, n) * (n / x.size)
    return np.clip(np.round(x), -32768, 32767).astype("<i2")


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def render(out: Path, texts: dict[str, str], binary: str) -> list[Path]:
    """Record ``texts`` (code -> text) into ``out`` and update its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    manifest = load_manifest(out)
    with tempfile.TemporaryDirectory() as tmp:
        for code, text in sorted(texts.items()):
            files = []
            for suffix, wpm in SPEEDS.items():
                raw = Path(tmp) / f"{code}{suffix}.wav"
                subprocess.run([binary, "-v", VOICE, "-s", str(wpm), "-w", str(raw), text], check=True,
                               capture_output=True, timeout=60)
                path = out / raw.name
                write_wav(path, trim_and_resample(*_read_wav(raw)))
                written.append(path)
                files.append(path.name)
            manifest[code] = {"text": text, "files": files}
    (out / MANIFEST).write_text(json.dumps(dict(sorted(manifest.items())), ensure_ascii=False, indent=1) + "\n",
                                encoding="utf-8")
    return written


def load_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def stale(folder: Path, texts: dict[str, str]) -> dict[str, str]:
    """code -> why, for every prompt whose recording is missing or was made from another text."""
    manifest = load_manifest(folder)
    out = {}
    for code, text in sorted(texts.items()):
        entry = manifest.get(code)
        if entry is None:
            out[code] = "not recorded"
        elif entry.get("text") != text:
            out[code] = f"recorded from {entry.get('text')!r}, the text is now {text!r}"
        else:
            missing = [f"{code}{suffix}.wav" for suffix in SPEEDS if not (folder / f"{code}{suffix}.wav").is_file()]
            if missing:
                out[code] = "missing " + ", ".join(missing)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "audio")
    ap.add_argument("--check", action="store_true",
                    help="list the prompts and exit 1 when a recording is missing or out of date")
    ap.add_argument("--only-stale", action="store_true", help="re-record only what --check reports")
    args = ap.parse_args(argv)
    texts = prompt_texts()
    if args.check:
        bad = stale(args.out, texts)
        for code, text in sorted(texts.items()):
            print(f"{code}\t{text}\t{bad.get(code, 'ok')}")
        return 1 if bad else 0
    if args.only_stale:
        texts = {code: texts[code] for code in stale(args.out, texts)}
    binary = espeak_binary()
    if binary is None:
        print("espeak-ng not found: apt-get install -y espeak-ng (or set ESPEAK_NG)", file=sys.stderr)
        return 2
    written = render(args.out, texts, binary)
    total = sum(p.stat().st_size for p in written)
    print(f"{len(written)} files, {total / 1e6:.1f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
