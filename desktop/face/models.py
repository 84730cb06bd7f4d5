"""Load face_recognition safely: never let a missing dependency silently exit the app.

face_recognition 1.3.0 does ``import face_recognition_models`` and calls ``quit()`` (exit status 0)
when that fails; face_recognition_models itself imports ``pkg_resources``, which setuptools >= 82
removed (docs/face.md "Installing"). A GUI would simply vanish. So we locate the model files with
``importlib.util.find_spec`` (no package import), register a tiny stand-in module that answers the
four ``*_location()`` questions, and import face_recognition with ``SystemExit`` turned into
:class:`FaceModelsUnavailable` (an ``ImportError``).

The dlib-bin Linux wheel is compiled with AVX; on a CPU without AVX dlib dies with an illegal
instruction, which no ``try`` can catch, so :func:`cpu_has_avx` is checked *before* importing dlib.
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
import sys
import threading
import types
from pathlib import Path

MODEL_FILES = {
    "pose_predictor_model_location": "shape_predictor_68_face_landmarks.dat",
    "pose_predictor_five_point_model_location": "shape_predictor_5_face_landmarks.dat",
    "face_recognition_model_location": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn_face_detector_model_location": "mmod_human_face_detector.dat",
}

_lock = threading.Lock()
_module: types.ModuleType | None = None


class FaceModelsUnavailable(ImportError):
    """The face engine cannot start; ``code`` is stable, ``message_zh`` is shown to the clerk."""

    def __init__(self, code: str, message_zh: str, detail: str = ""):
        super().__init__(f"{code}: {detail or message_zh}")
        self.code = code
        self.message_zh = message_zh
        self.detail = detail


def cpu_has_avx() -> bool | None:
    """True/False when known, None when the platform gives no cheap answer."""
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return None  # ARM wheels are not built with AVX
    if sys.platform.startswith("linux"):
        try:
            text = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("flags"):
                return " avx " in f" {line.split(':', 1)[-1].strip()} "
        return None
    if sys.platform == "win32":
        try:
            import ctypes

            PF_AVX_INSTRUCTIONS_AVAILABLE = 39
            return bool(ctypes.windll.kernel32.IsProcessorFeaturePresent(PF_AVX_INSTRUCTIONS_AVAILABLE))
        except Exception:
            return None
    return None


def models_dir() -> Path:
    """Directory of the dlib model files, found without importing face_recognition_models."""
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ValueError, ImportError):  # an already-imported module without a usable spec
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise FaceModelsUnavailable(
            "face_models_missing", "人脸识别模型未安装，请联系技术人员（可改用人工核验）",
            "package face_recognition_models not found")
    folder = Path(locations[0]) / "models"
    missing = [name for name in MODEL_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise FaceModelsUnavailable(
            "face_models_missing", "人脸识别模型文件缺失，请联系技术人员（可改用人工核验）",
            f"missing in {folder}: {', '.join(missing)}")
    return folder


def _stand_in(folder: Path) -> types.ModuleType:
    module = types.ModuleType("face_recognition_models")
    module.__doc__ = "CertDesk stand-in: model locations without pkg_resources (desktop.face.models)"
    module.__path__ = [str(folder.parent)]  # type: ignore[attr-defined]
    import importlib.machinery

    module.__spec__ = importlib.machinery.ModuleSpec("face_recognition_models", None, is_package=True)
    module.__spec__.submodule_search_locations = [str(folder.parent)]
    for func_name, file_name in MODEL_FILES.items():
        path = str(folder / file_name)
        setattr(module, func_name, (lambda p=path: p))
    return module


def load_face_recognition(*, check_avx: bool = True) -> types.ModuleType:
    """Import and return ``face_recognition`` (models loaded once, ~1 s, ~150 MiB).

    Raises :class:`FaceModelsUnavailable` (an ImportError) instead of exiting. Thread-safe.
    """
    global _module
    with _lock:
        if _module is not None:
            return _module
        if check_avx and cpu_has_avx() is False:
            raise FaceModelsUnavailable(
                "cpu_without_avx", "本机处理器不支持 AVX 指令，无法运行人脸识别，请改用人工核验",
                "dlib-bin is built with AVX")
        folder = models_dir()
        if "face_recognition_models" not in sys.modules:
            sys.modules["face_recognition_models"] = _stand_in(folder)
        try:
            module = importlib.import_module("face_recognition")
        except SystemExit as exc:  # face_recognition calls quit() on a failed models import
            sys.modules.pop("face_recognition", None)
            sys.modules.pop("face_recognition.api", None)
            raise FaceModelsUnavailable(
                "face_engine_exit", "人脸识别组件加载失败，请联系技术人员（可改用人工核验）",
                f"face_recognition tried to exit ({exc.code!r})") from None
        except ImportError as exc:
            raise FaceModelsUnavailable(
                "face_engine_import", "人脸识别组件加载失败，请联系技术人员（可改用人工核验）",
                str(exc)) from exc
        _module = module
        return module


def selftest() -> dict:
    """Start-up self-test: a dict for a status bar or ``certdesk face selftest``."""
    report: dict = {"avx": cpu_has_avx()}
    try:
        report["models_dir"] = str(models_dir())
        load_face_recognition()
        report["ok"] = True
    except FaceModelsUnavailable as exc:
        report.update(ok=False, error=exc.code, message=exc.message_zh, detail=exc.detail)
    return report
