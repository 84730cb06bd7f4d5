"""Real photos: same person, different people, a card-like 102x126 reference, several faces, partial faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desktop.face.compare import Decision, decide, face_distance, median_distance
from desktop.face.reference import FaceImageError, compare_images, encode_single_face, load_image
from desktop.face.settings import FaceSettings

SAME = [
    ("fr_obama/obama.jpg", "fr_obama/obama2.jpg"),
    ("fr_obama/obama.jpg", "fr_obama/obama3.jpg"),
    ("df_A/img1.jpg", "df_A/img2.jpg"),
    ("df_B/img26.jpg", "df_B/img27.jpg"),
    ("df_D/img3.jpg", "df_D/img54.jpg"),
    ("fr_biden/biden.jpg", "fr_biden/biden2.jpg"),
]
DIFFERENT = [
    ("fr_obama/obama.jpg", "fr_biden/biden.jpg"),
    ("df_A/img1.jpg", "df_B/img26.jpg"),
    ("df_C/img8.jpg", "df_D/img3.jpg"),
    ("of_adams/adams.jpg", "of_carell/carell.jpg"),
    ("fr_kit_harington/john1.jpeg", "fr_rose_leslie/img1.jpg"),
]


@pytest.mark.parametrize("a,b", SAME)
def test_same_person_is_not_rejected(encode, a, b):
    d = face_distance(encode(a), encode(b))
    assert d <= 0.60, f"{a} vs {b}: {d:.3f}"
    assert decide(d) in (Decision.MATCH, Decision.REVIEW)


@pytest.mark.parametrize("a,b", DIFFERENT)
def test_different_people_are_rejected(encode, a, b):
    d = face_distance(encode(a), encode(b))
    assert decide(d) is Decision.NO_MATCH, f"{a} vs {b}: {d:.3f}"


def test_most_same_person_pairs_match_outright(encode):
    decisions = [decide(face_distance(encode(a), encode(b))) for a, b in SAME]
    assert decisions.count(Decision.MATCH) >= len(SAME) - 1


def _card_like(engine, faces_root, rel: str) -> np.ndarray:
    """Crop around the face and scale to the chip photo's 102x126, kept lossless (PNG-like)."""
    img = load_image(faces_root / rel)
    rgb = img[:, :, ::-1].copy()
    box = engine.find_faces(rgb)[0]
    cx, cy = (box.left + box.right) // 2, (box.top + box.bottom) // 2
    half_w = int(box.width * 0.9)
    half_h = int(half_w * 126 / 102)
    x0, y0 = max(0, cx - half_w), max(0, cy - int(half_h * 0.9))
    crop = img[y0:cy + int(half_h * 1.1), x0:cx + half_w]
    return cv2.resize(crop, (102, 126), interpolation=cv2.INTER_AREA)


def test_card_like_reference(engine, faces_root, encode):
    card = _card_like(engine, faces_root, "fr_obama/obama.jpg")
    assert card.shape[:2] == (126, 102)
    ref = encode_single_face(engine, card)
    same = face_distance(ref, encode("fr_obama/obama2.jpg"))
    other = face_distance(ref, encode("fr_biden/biden2.jpg"))
    assert same <= 0.60, same          # match or clerk review, never a reject
    assert decide(other) is Decision.NO_MATCH, other


def test_median_of_live_frames_decides(encode):
    ref = encode("fr_obama/obama.jpg")
    frames = [encode("fr_obama/obama2.jpg"), encode("fr_obama/obama3.jpg"), encode("fr_biden/biden.jpg")]
    d, all_d = median_distance(frames, ref)
    assert len(all_d) == 3 and d == sorted(all_d)[1]
    assert decide(d) is not Decision.NO_MATCH   # one bad frame does not sink the median


@pytest.mark.parametrize("name", ["two_people.jpg", "obama_and_biden.jpg", "couple.jpg", "selfie-many-people.jpg",
                                  "bald_guys.jpg"])
def test_several_faces_are_refused(engine, faces_root, name):
    with pytest.raises(FaceImageError) as err:
        encode_single_face(engine, load_image(faces_root / "_multi_face" / name))
    assert err.value.code == "multiple_faces"


def test_no_face_is_refused(engine):
    blank = np.full((240, 320, 3), 128, np.uint8)
    with pytest.raises(FaceImageError) as err:
        encode_single_face(engine, blank)
    assert err.value.code == "no_face"


@pytest.mark.parametrize("name", ["obama_partial_face.jpg", "obama_partial_face2.jpg", "obama_small.jpg", "32bit.png"])
def test_partial_small_and_32bit_faces_still_identify_obama(encode, name):
    d_same = face_distance(encode(f"_edge_cases/{name}"), encode("fr_obama/obama.jpg"))
    d_other = face_distance(encode(f"_edge_cases/{name}"), encode("fr_biden/biden.jpg"))
    assert d_same <= 0.60 and decide(d_other) is Decision.NO_MATCH


def test_mirror_image_is_the_same_person(encode):
    assert decide(face_distance(encode("_edge_cases/img11_reflection.jpg"), encode("df_A/img11.jpg"))) is Decision.MATCH


def test_thresholds_are_settings(engine, faces_root):
    a = load_image(faces_root / "fr_obama/obama.jpg")
    b = load_image(faces_root / "fr_obama/obama2.jpg")
    default = compare_images(engine, a, b)
    strict = compare_images(engine, a, b, FaceSettings(accept_threshold=0.2, reject_threshold=0.3))
    assert default.decision is Decision.MATCH
    assert strict.decision is Decision.NO_MATCH
    assert strict.distance == pytest.approx(default.distance)


def test_decision_bands():
    s = FaceSettings()
    assert decide(0.50, s) is Decision.MATCH
    assert decide(0.55, s) is Decision.REVIEW
    assert decide(0.60, s) is Decision.REVIEW
    assert decide(0.61, s) is Decision.NO_MATCH
    with pytest.raises(ValueError):
        FaceSettings(accept_threshold=0.7, reject_threshold=0.6)
