"""The layers of infra/ import one way, and the library packages import no app code.

    naming, assembly  <  config, compliance  <  plan  <  personas  <  stacks  <  app  <  tools  <  cli

A module may import ``infra`` itself (REPO_ROOT), its own layer, and any earlier layer; two
layers of the same rank (config and compliance, naming and assembly) do not import each other.
``fmops_constructs`` (the L3 library) and ``templates`` (the product templates, built on the
library's product SDK) never import ``infra``; the library never imports the templates.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RANKS = {"naming": 0, "assembly": 0, "config": 1, "compliance": 1, "plan": 2, "personas": 3, "stacks": 4,
         "app": 5, "tools": 6, "cli": 7}
MAX_LINES = 650  # "about 600": no source module much past it (data files aside)
SOURCES = sorted(p for top in ("infra", "fmops_constructs", "templates") for p in (REPO / top).rglob("*.py")
                 if "seed" not in p.relative_to(REPO).parts)


def _module(path: Path, repo: Path) -> str:
    parts = list(path.relative_to(repo).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import, those inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module == "infra":  # from infra import personas: a layer, not the root
                found += [(node.lineno, f"infra.{alias.name}") for alias in node.names if alias.name in RANKS]
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "infra" and len(parts) > 1 and parts[1] in RANKS else None


def violations(sources: list[Path], repo: Path = REPO) -> list[str]:
    found = []
    for path in sources:
        module = _module(path, repo)
        top, layer = module.split(".")[0], _layer(module)
        for line, imported in _imports(path):
            where = f"{path.relative_to(repo)}:{line}: imports {imported}"
            target_top, target = imported.split(".")[0], _layer(imported)
            if top in ("fmops_constructs", "templates") and target_top == "infra":
                found.append(f"{where}: the {top} package must not import the app")
            elif top == "fmops_constructs" and target_top == "templates":
                found.append(f"{where}: the constructs library must not import the templates")
            elif top == "infra" and target_top == "infra" and target is not None and target != layer:
                if layer is None or RANKS[target] >= RANKS[layer]:
                    found.append(f"{where}: layer {layer} may import only earlier layers, not {target}")
    return found


def test_imports_follow_the_layers():
    assert violations(SOURCES) == []


def test_the_checker_sees_backwards_imports(tmp_path):
    """The check itself can fail: a config module importing a stack or the personas layer, a
    library module importing the app, and a function-level import are all reported."""
    (tmp_path / "infra" / "config").mkdir(parents=True)
    (tmp_path / "fmops_constructs").mkdir()
    config = tmp_path / "infra" / "config" / "probe.py"
    config.write_text("from infra.stacks.team import TeamStack\nfrom infra import personas\nfrom infra import naming\n")
    library = tmp_path / "fmops_constructs" / "probe.py"
    library.write_text("def f():\n    from infra.naming import TAG_TEAM\n")
    found = violations([config, library], repo=tmp_path)
    assert [v.split(":")[:2] for v in found] == [["infra/config/probe.py", "1"], ["infra/config/probe.py", "2"],
                                                  ["fmops_constructs/probe.py", "2"]], found


def test_infra_holds_only_layer_packages():
    modules = {p.name for p in (REPO / "infra").glob("*.py")}
    packages = {p.name for p in (REPO / "infra").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules <= {"__init__.py", "__main__.py"}
    assert packages <= set(RANKS), packages - set(RANKS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_source_module_is_long(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)}: {lines} lines; split it"


CITED = re.compile(r"(?<![\w/.<{-])((?:infra|fmops_constructs|templates|docs|config|scripts|tests)/[\w/.-]*\w\.(?:py|md|yaml|json|mjs|dot|svg))\b")


def test_cited_files_exist():
    """Docstrings, comments and docs name only files that exist."""
    texts = [*SOURCES, *(p for p in (REPO / "tests").glob("*.py") if p.name != "test_layering.py"), *(REPO / "docs").glob("*.md"), REPO / "README.md",
             *(REPO / "templates").glob("*/README.md")]
    missing = sorted({f"{path.relative_to(REPO)}: {cited}" for path in texts
                      for cited in CITED.findall(path.read_text(encoding="utf-8"))
                      if not (REPO / cited).exists()})
    assert missing == []
