"""Read a synthesized cloud assembly (cdk.out) without the CDK: stacks, templates, products.

Works on flat assemblies and on nested ones (CDK Stages: ``cdk:cloud-assembly`` artifacts in
``assembly-*/`` folders), so the generated docs do not depend on how the app groups its stacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "region", "AWS::URLSuffix": "amazonaws.com",
           "AWS::AccountId": "self"}


class AssemblyError(Exception):
    """A path that is not a readable cloud assembly."""


@dataclass(frozen=True)
class StackArtifact:
    name: str
    account: str
    region: str
    tags: dict[str, str]
    template: dict[str, Any]
    directory: Path
    artifact_id: str

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})


@dataclass(frozen=True)
class ProductTemplate:
    """A Service Catalog product of a stack, with the template of its provisioning artifact."""

    stack: StackArtifact
    name: str
    version: str
    artifact_description: str
    template: dict[str, Any]


def read_stacks(assembly: Path) -> list[StackArtifact]:
    """Every stack of a cloud assembly in manifest order, nested assemblies (stages) included."""
    manifest_path = assembly / "manifest.json"
    if not manifest_path.exists():
        raise AssemblyError(f"{assembly} is not a cloud assembly (no manifest.json); run `make synth` first")
    manifest = json.loads(manifest_path.read_text())
    found: list[StackArtifact] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        kind = artifact.get("type")
        properties = artifact.get("properties", {})
        if kind == "cdk:cloud-assembly":
            found += read_stacks(assembly / properties["directoryName"])
        elif kind == "aws:cloudformation:stack":
            _, account, region = (artifact.get("environment", "aws://unknown/unknown").rsplit("/", 2) + ["", ""])[:3]
            found.append(StackArtifact(
                name=properties.get("stackName") or artifact.get("displayName", artifact_id).split("/")[-1],
                account=account, region=region, tags=dict(properties.get("tags", {})),
                template=json.loads((assembly / properties["templateFile"]).read_text()),
                directory=assembly, artifact_id=artifact_id,
            ))
    return found


def resources_of(stack: StackArtifact, resource_type: str) -> list[dict[str, Any]]:
    """The Properties of every resource of ``resource_type`` in the stack."""
    return [r.get("Properties", {}) for r in stack.resources.values() if r.get("Type") == resource_type]


def cfn_text(value: Any) -> str:
    """Best-effort text of a CloudFormation value: literals, Fn::Join, Fn::Sub and pseudo parameters."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
            return str(argument[0]).join(cfn_text(part) for part in argument[1])
        if function == "Fn::Sub":
            text = argument if isinstance(argument, str) else cfn_text(argument[0])
            for name, literal in _PSEUDO.items():
                text = text.replace("${%s}" % name, literal)
            return text
        if function == "Ref":
            return _PSEUDO.get(str(argument), "{%s}" % argument)
    return "{token}"


def _asset_files(directory: Path) -> dict[str, Path]:
    """Object key of each file asset of the assembly folder -> its file."""
    found: dict[str, Path] = {}
    for path in sorted(directory.glob("*.assets.json")):
        for asset in json.loads(path.read_text()).get("files", {}).values():
            source = asset.get("source", {})
            if source.get("packaging") != "file" or "path" not in source:
                continue
            for destination in asset.get("destinations", {}).values():
                if "objectKey" in destination:
                    found[destination["objectKey"]] = directory / source["path"]
    return found


def product_templates(stacks: list[StackArtifact]) -> list[ProductTemplate]:
    """Every ``AWS::ServiceCatalog::CloudFormationProduct`` of the stacks whose template is an asset of
    the assembly (the CDK ``ProductStack`` way), in stack order."""
    found: list[ProductTemplate] = []
    assets: dict[Path, dict[str, Path]] = {}
    for stack in stacks:
        for product in resources_of(stack, "AWS::ServiceCatalog::CloudFormationProduct"):
            for artifact in product.get("ProvisioningArtifactParameters", []):
                url = cfn_text(artifact.get("Info", {}).get("LoadTemplateFromURL", ""))
                files = assets.setdefault(stack.directory, _asset_files(stack.directory))
                path = files.get(url.rsplit("/", 1)[-1])
                if path is None or not path.exists():
                    continue
                found.append(ProductTemplate(
                    stack=stack, name=cfn_text(product.get("Name", "")), version=cfn_text(artifact.get("Name", "")),
                    artifact_description=cfn_text(artifact.get("Description", "")),
                    template=json.loads(path.read_text()),
                ))
    return found
