"""The README's examples are real: its configuration example and its segment rules load."""

from __future__ import annotations

import re
from pathlib import Path

from journeybridge.config import load_config
from journeybridge.stages import parse_segments

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)


def test_the_configuration_example_loads(tmp_path: Path) -> None:
    example = next(block for block in _toml_blocks() if "[shops." in block)
    path = tmp_path / "config.toml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    assert "myshop" in config.shops
    assert set(config.segments) >= {"repeat_buyers", "big_spenders"}


def test_the_segment_examples_parse() -> None:
    block = next(b for b in _toml_blocks() if b.lstrip().startswith("[segments]"))
    rules = dict(re.findall(r'^"?([^"=\n]+?)"?\s*=\s*"(.*)"\s*$', block, flags=re.MULTILINE))
    assert len(rules) == 4
    assert len(parse_segments(rules)) == 4


def test_the_two_setup_commands_are_there() -> None:
    assert "pip install . && journeybridge demo" in README
    assert 'pip install -e ".[test]" && python -m pytest' in README


def test_the_prestashop_example_loads(tmp_path: Path) -> None:
    example = next(block for block in _toml_blocks() if 'platform = "prestashop"' in block)
    path = tmp_path / "config.toml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    assert config.shops["presta"].platform == "prestashop"


def test_the_actions_example_loads(tmp_path: Path) -> None:
    example = next(block for block in _toml_blocks() if block.lstrip().startswith("[actions]"))
    path = tmp_path / "config.toml"
    path.write_text(example, encoding="utf-8")
    settings = load_config(path).actions
    assert settings.review_delay_days == 7 and len(settings.enabled) == 8
