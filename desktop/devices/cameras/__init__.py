"""Qt-free frame sources: webcam, video file, PNG sequence, simulated camera (demo/test only).

Every source captures on its own worker thread and keeps only the newest frame; consumers call
:meth:`FrameSource.latest` (never blocks long) and compare ``Frame.index`` to skip frames they have
already seen. Slow consumers (face analysis) therefore drop frames instead of queueing them, and a
preview can paint at camera rate while the face engine is busy.

Frames are BGR uint8 numpy arrays (OpenCV order). This package must not import desktop.face.
"""

from desktop.devices.cameras.base import Frame, FrameSource, FrameSourceError
from desktop.devices.cameras.files import PngSequenceSource, VideoFileSource
from desktop.devices.cameras.simulated import ArraySource, SimulatedCamera
from desktop.devices.cameras.webcam import WebcamSource, list_webcams

__all__ = ["ArraySource", "Frame", "FrameSource", "FrameSourceError", "PngSequenceSource",
           "SimulatedCamera", "VideoFileSource", "WebcamSource", "list_webcams"]
