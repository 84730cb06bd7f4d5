"""Face-test fixtures: one engine and cached encodings for the whole session (encoding ~110 ms)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def engine():
    from desktop.face.detect import FaceEngine

    e = FaceEngine()
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def faces_root() -> Path:
    path = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "faces"
    if not path.is_dir():
        pytest.skip("../shared/fixtures/faces is not available")
    return path


@pytest.fixture(scope="session")
def encode(engine, faces_root):
    from desktop.face.reference import encode_single_face, load_image

    cache = {}

    def _encode(rel: str):
        if rel not in cache:
            cache[rel] = encode_single_face(engine, load_image(faces_root / rel), name=rel)
        return cache[rel]

    return _encode
