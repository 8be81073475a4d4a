"""Shared fixtures: the default organisation is synthesized once per test run.

With pytest-xdist the workers share one synthesized cloud assembly: the first worker to get
the lock synthesizes, the others read the result.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from typing import Any
from pathlib import Path

import pytest

from infra.app.builder import build_app, new_app
from infra.assembly import is_assembly, read_stacks
from infra.config import OrgConfig, load_config

REPO = Path(__file__).resolve().parent.parent


def synth(config: OrgConfig, outdir: Path, *, checks: bool = True, control_tower: bool = False) -> Path:
    """Synthesize ``config`` into ``outdir`` with the compliance checks; return outdir.

    The Control Tower rules (cfn-guard, the slowest gate: about 13 s of CPU on the default
    organisation) run on the two shared assemblies of the embedded configs, which the gate's own
    tests read (tests/test_compliance.py); the other synths of the suite check sizes, logical IDs
    or templates and leave them out (``control_tower=True`` to run them). ``cdk synth`` always
    runs every gate.
    """
    app = new_app(outdir=str(outdir))
    build_app(config, app, checks=checks, control_tower=control_tower)
    app.synth()
    return outdir


def _shared_synth(tmp_path_factory: pytest.TempPathFactory, name: str, config_path: Path) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own basetemp below the run's directory, which they share.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    outdir = root / f"assembly-{name}"
    with open(root / f"assembly-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_assembly(outdir):
            synth(load_config(config_path), outdir, control_tower=True)
    return outdir


@pytest.fixture(scope="session")
def default_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _shared_synth(tmp_path_factory, "default", REPO / "config" / "default.yaml")


@pytest.fixture(scope="session")
def single_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _shared_synth(tmp_path_factory, "single", REPO / "config" / "single-account.yaml")


def stack_artifacts(assembly: Path) -> dict[str, tuple[Path, dict]]:
    """Stack name -> (folder, manifest artifact) for every stack of a cloud assembly, the stacks
    of nested assemblies (a workload account's Stage in mode organisation: ``assembly-<account>/``)
    included."""
    return {stack.name: (stack.directory, stack.artifact) for stack in read_stacks(assembly)}


def load_templates(assembly: Path) -> dict[str, dict]:
    """Stack name -> template, for every stack of a cloud assembly (nested assemblies included)."""
    return {stack.name: stack.template for stack in read_stacks(assembly)}


def template_files(assembly: Path) -> list[Path]:
    """The template files of every stack (nested assemblies included), for the linters."""
    return sorted(stack.template_file for stack in read_stacks(assembly))


@pytest.fixture(scope="session")
def default_templates(default_assembly: Path) -> dict[str, dict]:
    return load_templates(default_assembly)


@pytest.fixture(scope="session")
def single_templates(single_assembly: Path) -> dict[str, dict]:
    return load_templates(single_assembly)


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def product_templates(assembly: Path, stack: str) -> dict[str, dict]:
    """template id -> product template, for the catalog stack ``stack`` (its products' templates
    are file assets of the stack)."""
    catalog = load_templates(assembly)[stack]
    templates = {}
    for product in resources(catalog, "AWS::ServiceCatalog::CloudFormationProduct").values():
        tags = {t["Key"]: t["Value"] for t in product["Properties"]["Tags"]}
        url = product["Properties"]["ProvisioningArtifactParameters"][0]["Info"]["LoadTemplateFromURL"]["Fn::Sub"]
        digest = url.rsplit("/", 1)[1].removesuffix(".json")
        folder, artifact = stack_artifacts(assembly)[stack]  # a stage's folder in mode organisation
        manifest = json.loads((folder / artifact["properties"]["templateFile"].replace(
            ".template.json", ".assets.json")).read_text())
        templates[tags["fmops:template"]] = json.loads((folder / manifest["files"][digest]["source"]["path"]).read_text())
    return templates


def resolve_pseudo(value: Any, account: str, region: str) -> Any:
    """A synthesized value (a policy, a parameter) with the pseudo parameters of ``account`` and
    ``region`` filled in: ``Fn::Sub`` and ``Fn::Join`` become text, a ``Ref`` of another name ``ref``."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account}
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            values = {**pseudo, "AWS::URLSuffix": "amazonaws.com"}
            return re.sub(r"\$\{([^}]+)\}", lambda m: values.get(m.group(1), m.group(0)), value["Fn::Sub"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(resolve_pseudo(p, account, region)) for p in parts)
        if "Ref" in value:
            return pseudo.get(value["Ref"], "ref")
        return {k: resolve_pseudo(v, account, region) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_pseudo(v, account, region) for v in value]
    return value
