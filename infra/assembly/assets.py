"""File assets of a cloud assembly that are templates: nested stacks and Service Catalog products.

CDK stages a nested stack's or a ``ProductStack``'s template as a file asset of its parent
stack, listed in the parent's ``<stack>.assets.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from infra.assembly.stacks import StackArtifact, read_json, resources_of
from infra.assembly.values import cfn_text

TEMPLATE_SUFFIX = ".template.json"


def asset_templates(template_file: Path) -> list[Path]:
    """Templates among the file assets of the stack whose template is ``template_file``
    (the ``<stem>.assets.json`` next to it), in asset-manifest order."""
    template_file = Path(template_file)
    if not template_file.name.endswith(TEMPLATE_SUFFIX):
        return []
    stem = template_file.name.removesuffix(TEMPLATE_SUFFIX)
    manifest_path = template_file.with_name(f"{stem}.assets.json")
    manifest = read_json(manifest_path) if manifest_path.is_file() else {}
    return [
        template_file.parent / asset["source"]["path"]
        for asset in manifest.get("files", {}).values()
        if str(asset.get("source", {}).get("path", "")).endswith(TEMPLATE_SUFFIX)
    ]


def template_files(stacks: list[StackArtifact]) -> list[Path]:
    """The stacks' template files, each followed by the templates among its assets (nested stacks
    and products, recursively); every file once."""
    return with_asset_templates(stack.template_file for stack in stacks)


def with_asset_templates(template_paths: Iterable[str | Path]) -> list[Path]:
    """The template files ``template_paths``, each followed by the templates among its assets
    (nested stacks and products, recursively); every file once."""
    found: dict[Path, None] = {}

    def add(path: Path) -> None:
        if path not in found:
            found[path] = None
            for nested in asset_templates(path):
                add(nested)

    for path in template_paths:
        add(Path(path))
    return list(found)


@dataclass(frozen=True)
class ProductTemplate:
    """A Service Catalog product of a stack, with the template of its provisioning artifact."""

    stack: StackArtifact
    name: str
    version: str
    artifact_description: str
    template: dict[str, Any]


def _asset_files(directory: Path) -> dict[str, Path]:
    """Object key of each file asset of the assembly folder -> its file."""
    found: dict[str, Path] = {}
    for path in sorted(directory.glob("*.assets.json")):
        for asset in read_json(path).get("files", {}).values():
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
                    template=read_json(path),
                ))
    return found
