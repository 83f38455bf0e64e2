"""What a non-editable install ships: every source folder must be a regular package."""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_every_source_folder_is_found_as_a_package() -> None:
    found = set(find_packages(str(ROOT), include=["journeybridge", "journeybridge.*"]))
    folders = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "journeybridge").rglob("*.py")}
    assert folders <= found, f"folders left out of a built wheel: {sorted(folders - found)}"


def test_the_package_is_typed() -> None:
    assert (ROOT / "journeybridge" / "py.typed").is_file()
    assert "py.typed" in (ROOT / "setup.cfg").read_text(encoding="utf-8")
