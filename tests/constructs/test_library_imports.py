"""The constructs package and the templates are a library below the app: neither imports
``infra`` (the app gives them its names and decisions through props)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    return names


@pytest.mark.parametrize("package", ["fmops_constructs", "templates"])
def test_no_module_imports_the_app(package):
    offending = {str(path.relative_to(REPO)): sorted(n for n in _imports(path) if n == "infra" or n.startswith("infra."))
                 for path in sorted((REPO / package).rglob("*.py"))}
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_product_sdk_is_the_only_way_templates_reach_the_library():
    """Templates import the library (and CDK), never each other's internals or the app."""
    for path in (REPO / "templates").glob("*/product.py"):
        ours = {n for n in _imports(path) if n.split(".")[0] in ("fmops_constructs", "templates", "infra")}
        assert all(n.startswith("fmops_constructs") for n in ours), (path.name, ours)
