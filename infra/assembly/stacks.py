"""The stacks of a cloud assembly, read from its ``manifest.json`` files.

Works on flat assemblies and on nested ones (CDK Stages: ``cdk:cloud-assembly`` artifacts in
``assembly-*/`` folders). A stack's template and construct metadata are read when first asked
for, so listing the stacks of a large app reads only its manifests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
STACK = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"


class AssemblyError(ValueError):
    """A path that is not a readable cloud assembly."""


def is_assembly(path: Path) -> bool:
    """True if ``path`` is a folder with a cloud assembly manifest."""
    return (Path(path) / MANIFEST).is_file()


def read_json(path: Path) -> Any:
    """A JSON file of the assembly; AssemblyError (naming the file) if it cannot be read."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AssemblyError(f"{path}: cannot read JSON ({error})") from error


def read_manifest(assembly: Path) -> dict[str, Any]:
    """The manifest of one assembly folder (not of its nested assemblies)."""
    path = Path(assembly) / MANIFEST
    if not path.is_file():
        raise AssemblyError(f"{assembly} is not a cloud assembly (no manifest.json); run `make synth` first")
    manifest = read_json(path)
    if not isinstance(manifest, dict):
        raise AssemblyError(f"{path}: not a cloud assembly manifest")
    return manifest


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly: where CDK deploys it, and its files."""

    name: str
    account: str
    region: str
    tags: dict[str, str]
    directory: Path
    """The assembly folder that holds the stack's files (a stage's ``assembly-*/`` folder)."""
    artifact_id: str
    artifact: dict[str, Any] = field(repr=False, compare=False)
    """The stack's entry in ``manifest.json``, as CDK wrote it."""

    @property
    def template_file(self) -> Path:
        return self.directory / self.artifact["properties"]["templateFile"]

    @cached_property
    def template(self) -> dict[str, Any]:
        return read_json(self.template_file)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    @cached_property
    def metadata(self) -> dict[str, list[dict[str, Any]]]:
        """Construct path -> metadata entries of the stack. CDK writes them inline in the manifest
        or, for large stacks, to the artifact's ``additionalMetadataFile``; both are read."""
        found = dict(self.artifact.get("metadata", {}))
        if "additionalMetadataFile" in self.artifact:
            found.update(read_json(self.directory / self.artifact["additionalMetadataFile"]))
        return found


def _stack(directory: Path, artifact_id: str, artifact: dict[str, Any]) -> StackArtifact:
    properties = artifact.get("properties", {})
    if "templateFile" not in properties:
        raise AssemblyError(f"{directory / MANIFEST}: stack {artifact_id} has no templateFile")
    _, account, region = (artifact.get("environment", "aws://unknown/unknown").rsplit("/", 2) + ["", ""])[:3]
    return StackArtifact(
        name=properties.get("stackName") or artifact.get("displayName", artifact_id).split("/")[-1],
        account=account, region=region, tags=dict(properties.get("tags", {})),
        directory=directory, artifact_id=artifact_id, artifact=artifact,
    )


def read_stacks(assembly: Path) -> list[StackArtifact]:
    """Every stack of a cloud assembly in manifest order, nested assemblies (stages) included."""
    assembly = Path(assembly)
    found: list[StackArtifact] = []
    for artifact_id, artifact in read_manifest(assembly).get("artifacts", {}).items():
        kind = artifact.get("type")
        if kind == NESTED_ASSEMBLY:
            directory = artifact.get("properties", {}).get("directoryName")
            if not directory:
                raise AssemblyError(f"{assembly / MANIFEST}: nested assembly {artifact_id} has no directoryName")
            found += read_stacks(assembly / directory)
        elif kind == STACK:
            found.append(_stack(assembly, artifact_id, artifact))
    return found


def resources_of(stack: StackArtifact, resource_type: str) -> list[dict[str, Any]]:
    """The Properties of every resource of ``resource_type`` in the stack."""
    return [r.get("Properties", {}) for r in stack.resources.values() if r.get("Type") == resource_type]
