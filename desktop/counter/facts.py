"""What the counter records about one visit, as plain frozen data (no database, no Qt): the card
(or manual entry), the face check's evidence and the helper (代办人). Built by the flow
(:mod:`desktop.counter.flow`), stored by :class:`desktop.services.counter.CounterService`."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop.domain import idnumber


@dataclass(frozen=True, slots=True)
class Helper:
    """代办人: accompanies the resident; the face check is still the resident's."""

    id_number: str
    name: str
    relationship: str
    read_from_card: bool = True

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)

    def __repr__(self) -> str:
        return f"Helper({self.masked_id}, {self.relationship})"

    def evidence(self) -> dict:
        return {"id_number": self.id_number, "name": self.name, "relationship": self.relationship,
                "read_from_card": self.read_from_card}


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What the card (or the manual entry) said, for the evidence; no photo, no raw bytes."""

    source: str  # sam_serial, sdtapi, termb, simulated, manual
    name: str = ""
    issues: tuple[str, ...] = ()  # consistency warning codes
    photo_status: str = ""
    manual_reason: str = ""

    def evidence(self) -> dict:
        out = {"source": self.source, "name_on_card": self.name, "issues": list(self.issues),
               "photo_status": self.photo_status}
        if self.manual_reason:
            out["manual_reason"] = self.manual_reason
        return out


@dataclass(frozen=True, slots=True)
class FaceOutcome:
    """The face check's evidence as the counter records it (``photo_png`` never logged)."""

    distance: float | None
    liveness_passed: bool
    frames_used: int
    frames_seen: int
    challenges_done: tuple[str, ...] = ()
    accept: float | None = None
    reject: float | None = None
    photo_png: bytes = field(default=b"", repr=False)

    def evidence(self) -> dict:
        out = {"distance": None if self.distance is None else round(self.distance, 4),
               "liveness_passed": self.liveness_passed, "frames_used": self.frames_used,
               "frames_seen": self.frames_seen, "challenges_done": list(self.challenges_done),
               "accept": self.accept, "reject": self.reject}
        # the photo itself is stored encrypted in face_images (desktop.services.evidence),
        # linked by the certification id, never inside this JSON
        out["photo_stored"] = bool(self.photo_png)
        return out
