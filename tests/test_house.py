"""The house rules that keep one home per concept, checked on the source itself:

* no platform branch outside ``journeybridge/adapters/`` and ``config.py`` (which validates the
  platforms): no comparison with a platform's name or ``Platform`` member, no ``Platform``
  member as a dict key, no reference to a platform's adapter class or module;
* stages know the model and nothing about HTTP, adapters nothing about stages.

``model.py`` defines the platforms and the sandbox is an emulation of both shops: they are
exempt. A test that could fail: each rule is also run on a snippet that breaks it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "journeybridge"
NAMES = {"woocommerce", "prestashop"}
MEMBERS = {"WOOCOMMERCE", "PRESTASHOP"}
ADAPTER_CLASSES = {"WooCommerceAdapter", "PrestaShopAdapter"}
ADAPTER_MODULES = {"journeybridge.adapters.woocommerce", "journeybridge.adapters.prestashop",
                   "journeybridge.adapters.woo_client", "journeybridge.adapters.presta_client",
                   "journeybridge.adapters.woo_mapping", "journeybridge.adapters.presta_mapping"}
EXEMPT = ("adapters/", "sandbox/", "config.py", "model.py")


def _is_platform(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value in NAMES
    return isinstance(node, ast.Attribute) and node.attr in MEMBERS


def platform_branches(source: str) -> list[str]:
    """Every place in ``source`` that decides by platform (line: what)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for side in sides:
                items = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                if any(_is_platform(item) for item in items):
                    found.append(f"{node.lineno}: compares with a platform")
        elif isinstance(node, ast.Dict) and any(k is not None and _is_platform(k)
                                                for k in node.keys):
            found.append(f"{node.lineno}: a table keyed by platform")
        elif isinstance(node, ast.Name | ast.alias) and (
                getattr(node, "id", None) in ADAPTER_CLASSES
                or getattr(node, "name", None) in ADAPTER_CLASSES):
            found.append(f"{getattr(node, 'lineno', '?')}: names a platform's adapter class")
        elif isinstance(node, ast.ImportFrom) and node.module in ADAPTER_MODULES:
            found.append(f"{node.lineno}: imports {node.module}")
        elif isinstance(node, ast.Import) and any(a.name in ADAPTER_MODULES for a in node.names):
            found.append(f"{node.lineno}: imports a platform's adapter module")
    return found


def _modules(exempt: tuple[str, ...] = EXEMPT) -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if not str(p.relative_to(PACKAGE)).startswith(exempt)]


def test_no_platform_branch_outside_the_adapters_and_config() -> None:
    problems = [f"{path.relative_to(PACKAGE.parent)}:{line}"
                for path in _modules() for line in platform_branches(path.read_text())]
    assert problems == []


@pytest.mark.parametrize("snippet", [
    "if shop.platform == 'prestashop':\n    pass",
    "x = platform in ('woocommerce', 'x')",
    "if p is Platform.PRESTASHOP:\n    pass",
    "PATHS = {Platform.WOOCOMMERCE: '/'}",
    "from journeybridge.adapters.prestashop import PrestaShopAdapter",
    "isinstance(adapter, WooCommerceAdapter)",
])
def test_the_rule_catches_a_branch(snippet: str) -> None:
    assert platform_branches(snippet)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_stages_do_no_http_and_adapters_know_no_stages() -> None:
    for path in sorted((PACKAGE / "stages").rglob("*.py")):
        bad = {n for n in _imports(path) if n.split(".")[0] in ("requests", "urllib3", "http")
               or n.startswith(("journeybridge.adapters", "journeybridge.state",
                                "journeybridge.sync"))}
        assert not bad, (path.name, bad)
    for path in sorted((PACKAGE / "adapters").rglob("*.py")):
        bad = {n for n in _imports(path) if n.startswith(("journeybridge.stages",
                                                          "journeybridge.sync",
                                                          "journeybridge.state",
                                                          "journeybridge.config"))}
        assert not bad, (path.name, bad)
