"""Face check (Qt-free): models, tracking, quality, comparison, liveness, triage, session, enrolment.

Frames are BGR uint8 numpy arrays (OpenCV order). Nothing here imports Qt or desktop.devices, and
nothing here may run on the GUI thread. face_recognition is imported lazily through
:func:`desktop.face.models.load_face_recognition` (never ``import face_recognition`` directly).

Note: dlib's 68-point landmark model was trained on iBUG 300-W, whose licence excludes commercial
use; the bureau's use is a public service, but the licence notes must say so plainly.
"""

from desktop.face.compare import Decision, decide
from desktop.face.liveness import Challenge
from desktop.face.settings import FaceSettings
from desktop.face.triage import NextStep, Reason, Triage, triage

__all__ = ["Challenge", "Decision", "FaceSettings", "NextStep", "Reason", "Triage", "decide", "triage"]
