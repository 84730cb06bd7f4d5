"""This installation's identity: a stable workstation id and name, kept in the config dir."""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass

from desktop.platform import paths


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something, and where (条例 第三十八条: every change records both)."""

    operator: str
    workstation: str
    role: str = "clerk"


def workstation_id() -> str:
    path = paths.config_dir() / "workstation.json"
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))["id"]
        except (ValueError, KeyError):
            pass
    ident = f"{socket.gethostname()[:24]}-{uuid.uuid4().hex[:8]}"
    path.write_text(json.dumps({"id": ident}), encoding="utf-8")
    return ident


def system_actor(name: str = "system") -> Actor:
    return Actor(name, workstation_id(), "admin")
