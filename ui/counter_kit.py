"""The counter's devices, built by the composition root from the station settings and injected
into the counter page: ID-card reader (through :class:`ui.reader_bridge.ReaderBridge`), camera,
face-check sessions, the resident screen and the receipt printer.

Production: the configured reader driver, a USB webcam and the real :class:`FaceCheckSession`
against the chip photo (models loaded in the background at start-up). Demo/test mode: the simulated
reader with cards of people on the demo roster, a simulated camera showing a demo face (from
``../shared/fixtures/faces`` when present) and :class:`desktop.face.scripted.ScriptedFaceSession`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

FACES_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "faces"


class ReceiptPrinter:
    """Sends a finished PDF to the system queue through the shared printing layer
    (:func:`desktop.printing.spool.send_pdf`: ``lp`` on Linux/macOS, the shell print verb on
    Windows). ``dry_run`` (demo/test) only counts the jobs."""

    def __init__(self, printer_name: str = "", *, dry_run: bool = False):
        self.printer_name = printer_name
        self.dry_run = dry_run
        self.jobs: list[str] = []

    @property
    def has_queue(self) -> bool:
        from desktop.printing.spool import queue_available

        return self.dry_run or queue_available()

    def print_file(self, path: str | Path) -> str:
        from desktop.printing.spool import printer_label, send_pdf

        path = str(path)
        if self.dry_run:
            self.jobs.append(Path(path).name)
            return "演示模式：回执已生成（未发送到打印机）"
        job = send_pdf(path, self.printer_name or None, title="认证回执")
        self.jobs.append(job or Path(path).name)
        return f"已发送到打印机{printer_label(self.printer_name)}" + (f"（作业 {job}）" if job else "")


@dataclass
class CounterKit:
    reader_session_factory: Callable  # sink -> session (desktop.devices.registry.build_session)
    camera_factory: Callable[[], Any]  # -> a started frame source
    face_session_factory: Callable[..., Any]  # (card, lookup) -> session, or raises UserFacingError
    printer: ReceiptPrinter
    demo: bool = False
    resident_screen: Any = None  # ui.resident_screen.ResidentScreen
    demo_cards: list = field(default_factory=list)
    training_cards: list = field(default_factory=list)  # (label, CardSpec) for the training panel
    training: bool = False  # the 培训模式 setting (a separate database; the panel is shown in the demo too)
    face_script: list = field(default_factory=list)  # demo/test: outcomes for the next checks ("pass", reasons)
    face_ready: threading.Event = field(default_factory=threading.Event)
    enrolment: Any = None  # desktop.services.enrolment.EnrolmentService
    enrol_collector_factory: Callable[[], Any] | None = None  # -> desktop.face.enrol.EnrolmentCollector (worker thread)
    # production: starts loading the face models on their own thread (idempotent). The composition
    # root calls it once the window is usable; the face factories call it too, in case nobody did.
    start_loading: Callable[[], None] = lambda: None

    def next_outcome(self) -> str:
        return self.face_script.pop(0) if self.face_script else "pass"


def demo_face_image():
    """A demo face from the shared fixtures (never copied into the repo), or None."""
    try:
        from desktop.face.reference import load_image

        for rel in ("df_A/img1.jpg", "fr_obama/obama.jpg"):
            if (FACES_DIR / rel).exists():
                return load_image(FACES_DIR / rel)
    except Exception:  # noqa: BLE001 - the demo works without the photos
        return None
    return None


def build_demo_kit(*, cards: list | None = None, resident_screen=None, frames_per_step: int = 2,
                   pace_fps: float = 30.0, face_settings: dict | None = None) -> CounterKit:
    """Demo/test: simulated reader, camera and scripted face check (refused in production)."""
    from desktop.devices.cameras import SimulatedCamera
    from desktop.devices.idcard.simulated import SimulatedReader
    from desktop.devices.registry import build_session
    from desktop.face.scripted import ScriptedFaceSession
    from desktop.runmode import require_simulation_allowed

    require_simulation_allowed("demo counter kit")
    cfg_cards = list(cards or [])
    s = face_settings or {}

    def reader_factory(sink):
        from desktop.devices.idcard.session import ReaderSession
        from desktop.devices.registry import ReaderConfig, build_photo_decoder

        cfg = ReaderConfig(driver="simulated")
        reader = SimulatedReader(cfg_cards or None, read_delay=0.02)
        return ReaderSession(reader, sink, photo_decoder=build_photo_decoder(cfg), poll_interval=0.05,
                             reconnect_interval=0.3)

    image = demo_face_image()

    def camera_factory():
        return SimulatedCamera(image, pace_fps=pace_fps).start()

    kit = CounterKit(reader_factory, camera_factory, None, ReceiptPrinter(dry_run=True), demo=True,
                     resident_screen=resident_screen, demo_cards=cfg_cards)

    def face_factory(card=None, lookup=None):
        return ScriptedFaceSession(outcome=kit.next_outcome(), frames_per_step=frames_per_step,
                                   accept=s.get("accept", 0.5), reject=s.get("reject", 0.6))

    kit.face_session_factory = face_factory
    kit.enrol_collector_factory = _lazy_collector_factory()
    kit.face_ready.set()
    _ = build_session  # the production path below uses it
    return kit


def _lazy_collector_factory(engine_box: dict | None = None, ready: threading.Event | None = None,
                            start_loading: Callable[[], None] | None = None):
    """EnrolmentCollector on the shared engine (production) or a lazily loaded one (demo)."""
    from desktop.errors import UserFacingError

    box = engine_box if engine_box is not None else {}

    def factory():
        from desktop.face.detect import FaceEngine
        from desktop.face.enrol import EnrolmentCollector

        if start_loading is not None:
            start_loading()
        if ready is not None and (not ready.wait(30) or "engine" not in box):
            raise UserFacingError("人脸识别模块不可用，无法采集参考照片", code="engine_unavailable")
        if "engine" not in box:
            box["engine"] = FaceEngine()
        return EnrolmentCollector(box["engine"])

    return factory


def build_production_kit(station, settings, *, resident_screen=None, enrolment=None) -> CounterKit:
    """The configured reader and webcam, and the real face check against the chip photo."""
    from desktop.devices.registry import build_session
    from desktop.errors import UserFacingError

    reader_cfg = station.reader_config(demo=False)
    engine_box: dict = {}
    ready = threading.Event()

    def load_engine():  # background: models take a few seconds to load
        try:
            from desktop.face.detect import FaceEngine
            from desktop.face.encoder import EncoderUnavailable, ProcessEncoder

            e = FaceEngine()
            e.warm_up()
            try:  # dlib's encoding holds the GIL ~110 ms: run it in a child so the preview stays smooth
                e.encoder = ProcessEncoder().start()
            except (EncoderUnavailable, OSError) as exc:
                import logging

                logging.getLogger(__name__).warning("face encoder process unavailable, encoding in-process: %s", exc)
            engine_box["engine"] = e
        except Exception as exc:  # noqa: BLE001 - reported when a check is started
            engine_box["error"] = exc
        finally:
            ready.set()

    started = threading.Lock()
    loading: list = []

    def start_loading() -> None:
        with started:
            if not loading:
                loading.append(threading.Thread(target=load_engine, name="face-models", daemon=True))
                loading[0].start()

    def camera_factory():
        from desktop.devices.cameras import WebcamSource

        return WebcamSource(station.get("camera_index")).start()

    def face_factory(card=None, lookup=None):
        from desktop.face.reference import decode_image, encode_single_face
        from desktop.face.session import FaceCheckSession
        from desktop.face.settings import FaceSettings

        chip = getattr(card, "photo_bmp", None) if card is not None else None
        person = getattr(lookup, "person", None)
        source = (enrolment.reference_image(person.id if person else None, chip) if enrolment is not None
                  else (("chip", chip) if chip else None))
        if source is None:
            raise UserFacingError("没有可用的参考照片（无芯片照片、未采集），请按 F7 采集参考照片或改用人工核验",
                                  code="no_photo")
        start_loading()
        if not ready.wait(30) or "engine" not in engine_box:
            raise UserFacingError("人脸识别模块不可用，请改用人工核验", code="engine_unavailable")
        engine = engine_box["engine"]
        ref = encode_single_face(engine, decode_image(source[1]), name=source[0])
        fs = FaceSettings(accept_threshold=settings.get("face_accept"), reject_threshold=settings.get("face_reject"))
        return FaceCheckSession(ref, fs, engine=engine)

    kit = CounterKit(lambda sink: build_session(reader_cfg, sink), camera_factory, face_factory,
                     ReceiptPrinter(station.get("printer_name")), demo=False, resident_screen=resident_screen)
    kit.face_ready = ready
    kit.enrolment = enrolment
    kit.enrol_collector_factory = _lazy_collector_factory(engine_box, ready, start_loading)
    kit.start_loading = start_loading
    return kit


DEMO_ACCOUNTS = (("admin", "系统管理员", "admin", "Admin2026"), ("zhangmin", "张敏", "clerk", "Demo2026"),
                 ("lizr", "李主任", "supervisor", "Super2026"))
DEMO_HINT = "演示账号：经办员 zhangmin / Demo2026，审核主管 lizr / Super2026，管理员 admin / Admin2026"


def ensure_demo_accounts(operators, workstation: str) -> None:
    """Demo/test only: known accounts so the demo and the drill can sign in."""
    from desktop.runmode import require_simulation_allowed
    from desktop.workstation import Actor

    require_simulation_allowed("demo accounts")
    admin = Actor("system", workstation, "admin")
    for username, name, role, pw in DEMO_ACCOUNTS:
        if operators.get(username) is None:
            operators.create(username, name, role, pw, admin, must_change=False)


def prepare_counter(services, demo: bool, workstation: str, as_of) -> dict:
    """Runs on a worker at start-up: first-start admin (production), demo accounts and demo cards."""
    info: dict = {"first_start_password": None, "demo_cards": []}
    if demo:
        from desktop.services.counter import demo_card_specs, training_cards

        ensure_demo_accounts(services.operators, workstation)
        info["demo_cards"] = demo_card_specs(services, 12, as_of)
        info["training_cards"] = training_cards(services, as_of)
    else:
        info["first_start_password"] = services.operators.ensure_admin(workstation)
    return info


def build_kit(services, demo: bool, info: dict, *, resident_screen=None) -> CounterKit:
    """GUI thread (the resident screen is a widget)."""
    settings = services.settings
    face = {"accept": settings.get("face_accept"), "reject": settings.get("face_reject")}
    from desktop.services.enrolment import EnrolmentService

    enrolment = EnrolmentService(services.db, services.evidence)
    if demo:
        kit = build_demo_kit(cards=info.get("demo_cards"), resident_screen=resident_screen, face_settings=face)
        kit.enrolment = enrolment
        kit.training_cards = list(info.get("training_cards") or [])
        kit.training = bool(info.get("training"))
        return kit
    return build_production_kit(services.station, settings, resident_screen=resident_screen, enrolment=enrolment)
