"""What every card reader is, the events a reader session sends, and the driver error types.

Thread contract: a :class:`CardReader` is *not* thread-safe. It is opened, polled and closed only
on its device-I/O thread (:mod:`desktop.devices.io_thread`); everything it hands to other threads
is a frozen dataclass (:class:`ReaderEvent` subclasses, :class:`~desktop.devices.idcard.model.IdCard`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.errors import DeviceError

if TYPE_CHECKING:  # pragma: no cover
    from desktop.devices.idcard.model import IdCard


# --------------------------------------------------------------------------- errors
class ReaderError(DeviceError):
    code = "reader_error"


class FrameError(ReaderError):
    """A reply frame is malformed (the codec names the fault in ``code``)."""

    code = "bad_frame"


class CardDataError(ReaderError):
    """The card payload inside a well-formed frame cannot be parsed."""

    code = "bad_card_data"


class ReaderTimeout(ReaderError):
    code = "reader_timeout"


class ReaderDisconnected(ReaderError):
    """The port went away (unplugged cable, dead USB-serial adapter)."""

    code = "reader_lost"


class ReaderNotFound(ReaderError):
    code = "reader_not_found"


class SamStatusError(ReaderError):
    """The SAM answered with a failure status (SW3)."""

    code = "sam_status"


class CardReadError(ReaderError):
    """The card was found but could not be read (moved away mid-read, bad contact …)."""

    code = "read_failed"


class LibraryUnavailable(ReaderError):
    """A vendor library (sdtapi, termb, WLT decoder) is missing or lacks an entry point."""

    code = "library_unavailable"


MSG_READER_LOST = "读卡器连接已断开，请检查读卡器连接线；重新连接后将自动恢复"
MSG_READ_FAILED = "读卡失败：身份证可能已移开或放置不正，请重新放置身份证"


# --------------------------------------------------------------------------- driver
@dataclass(frozen=True, slots=True)
class DeviceInfo:
    driver: str  # "sam_serial", "sdtapi", "termb", "simulated"
    port: str  # "/dev/ttyUSB0", "COM3", "1001", "sim"
    description: str = ""
    sam_id: str | None = None


class CardReader(ABC):
    """One ID-card reader. Used from a single thread; see the module docstring.

    Session protocol: ``open()`` → poll ``find_card()`` → on ``True`` call ``read_card()`` → poll
    ``find_card()`` until it returns ``False`` (card removed) → ``close()``.
    """

    driver: str = "abstract"

    @abstractmethod
    def open(self) -> DeviceInfo:
        """Connect and prove the reader answers. Raises :class:`ReaderError`."""

    @abstractmethod
    def close(self) -> None:
        """Release the port. Idempotent; never raises."""

    @abstractmethod
    def find_card(self) -> bool:
        """True when a card is in the field (SAM 20 01 → 9F), False when none (→ 80)."""

    @abstractmethod
    def read_card(self) -> "IdCard":
        """Select and read the card found by :meth:`find_card`. Raises :class:`CardReadError`."""

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    def __enter__(self) -> "CardReader":
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------------- events
class ReaderEvent:
    """Base of the frozen events a session delivers to its sink (any thread → GUI)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ReaderFound(ReaderEvent):
    info: DeviceInfo


@dataclass(frozen=True, slots=True)
class ReaderLost(ReaderEvent):
    code: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class CardPlaced(ReaderEvent):
    pass


@dataclass(frozen=True, slots=True)
class CardRead(ReaderEvent):
    card: "IdCard"


@dataclass(frozen=True, slots=True)
class CardRemoved(ReaderEvent):
    pass


@dataclass(frozen=True, slots=True)
class ReadFailed(ReaderEvent):
    code: str
    message_zh: str
