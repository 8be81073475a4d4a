"""Read the templates to check: template files (JSON or YAML), or cloud assemblies (cdk.out).

Cloud assemblies are read through ``infra.assembly``, the one reader of cdk.out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.assembly import MANIFEST, asset_templates, is_assembly, read_json, read_stacks

_TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
_TEMPLATE_SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Parameters",
        "Rules",
        "Mappings",
        "Conditions",
        "Transform",
        "Resources",
        "Outputs",
        "Hooks",
    }
)


def load_templates(paths: Iterable[str | Path]) -> list[tuple[str, dict]]:
    """Templates named by ``paths``: template files, or cloud assembly folders (cdk.out).

    An assembly contributes the templates of its stack artifacts, of nested assemblies
    (stages), and, through each stack's asset manifest, of nested stacks and Service Catalog
    product stacks. Nothing is found by globbing. Raises ValueError for anything else.
    """
    loaded: dict[Path, tuple[str, dict]] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _load_assembly(path, loaded)
        elif path.name == MANIFEST and path.is_file():
            _load_assembly(path.parent, loaded)
        elif path.is_file():
            _load_template_file(path, loaded)
        else:
            raise ValueError(f"{path}: no such file or directory")
    return list(loaded.values())


def _load_assembly(directory: Path, loaded: dict[Path, tuple[str, dict]]) -> None:
    if not is_assembly(directory):
        raise ValueError(f"{directory}: not a cloud assembly (no manifest.json)")
    for stack in read_stacks(directory):
        _load_template_file(stack.template_file, loaded)


def _load_template_file(path: Path, loaded: dict[Path, tuple[str, dict]]) -> None:
    key = path.resolve()
    if key in loaded:
        return
    if not path.is_file():
        raise ValueError(f"{path}: template file not found")
    if path.suffix not in _TEMPLATE_SUFFIXES:
        raise ValueError(f"{path}: not a CloudFormation template or cloud assembly")
    template = read_json(path) if path.suffix == ".json" else _read_yaml(path)
    if not isinstance(template, dict) or not template or not template.keys() <= _TEMPLATE_SECTIONS:
        raise ValueError(f"{path}: not a CloudFormation template")
    loaded[key] = (str(path), template)
    for nested in asset_templates(path):
        _load_template_file(nested, loaded)


def _read_yaml(path: Path) -> Any:
    """YAML with CloudFormation short forms (!Ref, !GetAtt...), through cfn-lint's loader."""
    from cfnlint.decode import cfn_yaml

    try:
        document = cfn_yaml.load(str(path))
    except Exception as error:  # cfn-lint raises its own parse errors and yaml's
        raise ValueError(f"{path}: cannot read YAML ({error})") from error
    return json.loads(json.dumps(document, default=str))
