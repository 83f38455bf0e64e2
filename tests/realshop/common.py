"""What the real-shop fixtures share: where ../shared is, skip-or-fail, free ports, env files."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """True when running in CI (``CI=true``), where real-shop tests must never skip."""
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> None:
    """Skip locally; in CI a real shop that cannot run is a failure, never a skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: real-shop tests must not be skipped)", pytrace=False)
    pytest.skip(reason)


def shared_dir() -> Path:
    """../shared beside the repository, or where JOURNEYBRIDGE_SHARED points."""
    override = os.environ.get("JOURNEYBRIDGE_SHARED")
    return Path(override).expanduser().resolve() if override else REPO_ROOT.parent / "shared"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def parse_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; one level of surrounding double quotes is removed."""
    env: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            env[name.strip()] = value
    return env


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} not readable)"
    return "\n".join(text.splitlines()[-lines:])
