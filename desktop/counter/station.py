"""The counter's station: ID-card reader, camera, face engine, face-check sessions, enrolment and
the receipt printer, built from the station settings (:mod:`desktop.services.station`) and the
device registries (:mod:`desktop.devices.registry`). Qt-free: the window wraps the reader in
:class:`ui.reader_bridge.ReaderBridge` and the camera loop in :func:`ui.workers.stream`; the
headless flow and its tests use the same station directly.

Production: the configured reader driver, a USB webcam and the real :class:`FaceCheckSession`
against the chip photo, the models loaded by :class:`FaceModels` (a future). Demo/test mode: the
simulated reader with cards of people on the demo roster, a simulated camera showing a generated
face (:mod:`desktop.counter.demo_face`) and :class:`desktop.face.scripted.ScriptedFaceSession`.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from desktop.errors import UserFacingError

log = logging.getLogger(__name__)

ReaderSessionFactory = Callable[[Callable[[object], None]], object]  # sink -> ReaderSession (step/close)


class ReceiptPrinter:
    """Sends a finished PDF to the system queue through the shared printing layer
    (:func:`desktop.printing.spool.send_pdf`: ``lp`` on Linux/macOS, the shell print verb on
    Windows). ``dry_run`` (demo/test only: refused at a real counter) only counts the jobs. A
    missing file, no queue or an unknown printer raise :class:`desktop.printing.spool.PrintError`
    (tests/devices/station_contract.py)."""

    def __init__(self, printer_name: str = "", *, dry_run: bool = False):
        if dry_run:
            from desktop.platform.runmode import require_simulation_allowed

            require_simulation_allowed("demo receipt printer")
        self.printer_name = printer_name
        self.dry_run = dry_run
        self.jobs: list[str] = []

    @property
    def has_queue(self) -> bool:
        from desktop.printing.spool import queue_available

        return self.dry_run or queue_available()

    def print_file(self, path: str | Path) -> str:
        from desktop.printing.spool import printer_label, require_file, send_pdf

        path = str(path)
        if self.dry_run:
            require_file(path)  # the demo refuses what the queue would refuse
            self.jobs.append(Path(path).name)
            return "演示模式：回执已生成（未发送到打印机）"
        job = send_pdf(path, self.printer_name or None, title="认证回执")
        self.jobs.append(job or Path(path).name)
        return f"已发送到打印机{printer_label(self.printer_name)}" + (f"（作业 {job}）" if job else "")


def _production_engine():
    from desktop.face.detect import FaceEngine
    from desktop.face.encoder import EncoderUnavailable, ProcessEncoder

    engine = FaceEngine()
    engine.warm_up()
    try:  # dlib's encoding holds the GIL ~110 ms: run it in a child so the preview stays smooth
        engine.encoder = ProcessEncoder().start()
    except (EncoderUnavailable, OSError) as exc:
        log.warning("face encoder process unavailable, encoding in-process: %s", exc)
    return engine


def _plain_engine():
    from desktop.face.detect import FaceEngine

    return FaceEngine()


class FaceModels:
    """The face engine, loaded once in the background: :meth:`load` returns a
    :class:`concurrent.futures.Future` (idempotent; the first call starts the work on a worker of
    its own, so a check never waits behind database or device work). Any thread."""

    def __init__(self, loader: Callable[[], object] = _production_engine):
        self._loader = loader
        self._lock = threading.Lock()
        self._future: Future | None = None

    def load(self) -> Future:
        with self._lock:
            if self._future is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-models")
                self._future = pool.submit(self._loader)
                pool.shutdown(wait=False)  # the one job runs on; the thread ends with it
            return self._future

    @property
    def ready(self) -> bool:
        return self._future is not None and self._future.done()

    def engine(self, timeout: float = 30.0, message: str = "人脸识别模块不可用，请改用人工核验"):
        """The loaded engine (starting the load if nobody did); a clear refusal when it failed."""
        try:
            return self.load().result(timeout)
        except Exception as exc:  # noqa: BLE001 - timeout or a failed load: the non-face route remains
            log.warning("face engine unavailable: %s", type(exc).__name__)
            raise UserFacingError(message, code="engine_unavailable") from None


@dataclass
class Station:
    """What the counter works with. Built by :func:`build_station` (the composition root calls it)."""

    reader_session_factory: ReaderSessionFactory
    camera_factory: Callable[[], object]  # -> a started frame source (desktop.devices.cameras)
    face_session_factory: Callable[..., object]  # (card, lookup) -> session, or raises UserFacingError
    printer: ReceiptPrinter
    face_models: FaceModels
    demo: bool = False
    enrolment: object = None  # desktop.services.enrolment.EnrolmentService
    demo_cards: list = field(default_factory=list)
    training_cards: list = field(default_factory=list)  # (label, CardSpec) for the training panel
    training: bool = False  # the 培训模式 setting (a separate database; the panel is shown in the demo too)
    face_script: list = field(default_factory=list)  # demo/test: outcomes for the next checks ("pass", reasons)
    # -> a fresh EnrolmentCollector (called on a worker); None: the station's own (enrol_collector)
    enrol_collector_factory: Callable[[], object] | None = None

    def __post_init__(self) -> None:
        if self.enrol_collector_factory is None:
            self.enrol_collector_factory = self.enrol_collector

    def next_outcome(self) -> str:
        return self.face_script.pop(0) if self.face_script else "pass"

    def start_loading(self) -> Future:
        """Face models: the composition root starts them once the window is usable (production;
        the demo's scripted check needs none, enrolment loads them when first asked)."""
        return self.face_models.load()

    def enrol_collector(self):
        """A fresh EnrolmentCollector on the shared engine (call on a worker: it may wait for the models)."""
        from desktop.face.enrol import EnrolmentCollector

        return EnrolmentCollector(self.face_models.engine(message="人脸识别模块不可用，无法采集参考照片"))


def build_demo_station(*, cards: list | None = None, frames_per_step: int = 2, pace_fps: float = 30.0,
                       face_settings: dict | None = None, enrolment=None) -> Station:
    """Demo/test: simulated reader, camera and scripted face check (refused in production)."""
    from desktop.counter.demo_face import demo_face
    from desktop.devices.cameras import SimulatedCamera
    from desktop.devices.idcard.session import ReaderSession
    from desktop.devices.idcard.simulated import SimulatedReader
    from desktop.devices.registry import ReaderConfig, build_photo_decoder
    from desktop.face.scripted import ScriptedFaceSession
    from desktop.platform.runmode import require_simulation_allowed

    require_simulation_allowed("demo counter station")
    cfg_cards = list(cards or [])
    s = face_settings or {}

    def reader_factory(sink):
        cfg = ReaderConfig(driver="simulated")
        reader = SimulatedReader(cfg_cards or None, read_delay=0.02)
        return ReaderSession(reader, sink, photo_decoder=build_photo_decoder(cfg), poll_interval=0.05,
                             reconnect_interval=0.3)

    image = demo_face()

    def camera_factory():
        return SimulatedCamera(image, pace_fps=pace_fps).start()

    station = Station(reader_factory, camera_factory, lambda *a: None, ReceiptPrinter(dry_run=True),
                      FaceModels(_plain_engine), demo=True, demo_cards=cfg_cards, enrolment=enrolment)

    def face_factory(card=None, lookup=None):
        return ScriptedFaceSession(outcome=station.next_outcome(), frames_per_step=frames_per_step,
                                   accept=s.get("accept", 0.5), reject=s.get("reject", 0.6))

    station.face_session_factory = face_factory
    return station


def build_production_station(station_settings, settings, *, enrolment=None) -> Station:
    """The configured reader and webcam, and the real face check against the chip photo."""
    from desktop.devices.registry import build_session

    reader_cfg = station_settings.reader_config(demo=False)
    models = FaceModels()

    def camera_factory():
        from desktop.devices.cameras import WebcamSource

        return WebcamSource(station_settings.get("camera_index")).start()

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
        engine = models.engine()
        ref = encode_single_face(engine, decode_image(source[1]), name=source[0])
        fs = FaceSettings(accept_threshold=settings.get("face_accept"), reject_threshold=settings.get("face_reject"))
        return FaceCheckSession(ref, fs, engine=engine)

    return Station(lambda sink: build_session(reader_cfg, sink), camera_factory, face_factory,
                   ReceiptPrinter(station_settings.get("printer_name")), models, demo=False, enrolment=enrolment)


# --- start-up: accounts and cards (a worker thread), then the station (any thread) ----------------

DEMO_ACCOUNTS = (("admin", "系统管理员", "admin", "Admin2026"), ("zhangmin", "张敏", "clerk", "Demo2026"),
                 ("lizr", "李主任", "supervisor", "Super2026"))
DEMO_HINT = "演示账号：经办员 zhangmin / Demo2026，审核主管 lizr / Super2026，管理员 admin / Admin2026"


@dataclass(frozen=True)
class StartupInfo:
    """What the start-up worker prepared for the counter (before the station is built)."""

    first_start_password: str | None = None
    demo_cards: tuple = ()
    training_cards: tuple = ()
    training: bool = False


def ensure_demo_accounts(operators, workstation: str) -> None:
    """Demo/test only: known accounts so the demo and the drill can sign in."""
    from desktop.platform.runmode import require_simulation_allowed
    from desktop.platform.workstation import Actor

    require_simulation_allowed("demo accounts")
    admin = Actor("system", workstation, "admin")
    for username, name, role, pw in DEMO_ACCOUNTS:
        if operators.get(username) is None:
            operators.create(username, name, role, pw, admin, must_change=False)


def prepare_counter(services, demo: bool, workstation: str, as_of, *, training: bool = False) -> StartupInfo:
    """Runs on a worker at start-up: first-start admin (production), demo accounts and demo cards."""
    if demo:
        from desktop.services.counter import demo_card_specs, training_cards

        ensure_demo_accounts(services.operators, workstation)
        return StartupInfo(None, tuple(demo_card_specs(services, 12, as_of)), tuple(training_cards(services, as_of)),
                           training)
    return StartupInfo(services.operators.ensure_admin(workstation), training=training)


def build_station(services, demo: bool, info: StartupInfo) -> Station:
    """The station for this counter, from the settings (production) or the demo cards."""
    settings = services.settings
    enrolment = services.enrolment
    if demo:
        station = build_demo_station(cards=list(info.demo_cards), enrolment=enrolment,
                                     face_settings={"accept": settings.get("face_accept"),
                                                    "reject": settings.get("face_reject")})
        station.training_cards = list(info.training_cards)
        station.training = info.training
        return station
    return build_production_station(services.station, settings, enrolment=enrolment)
