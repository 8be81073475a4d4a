"""The one reader of a synthesized cloud assembly (cdk.out), without the CDK.

Every tool and test that reads cdk.out goes through here: the internet-free loader, the synth
summary, the docs and diagram generators, the execution-policy generator and the test fixtures.

    stacks   manifest.json, nested assemblies (stages) included: StackArtifact, read_stacks
    assets   templates staged as file assets: nested stacks, Service Catalog product stacks
    values   best-effort text of CloudFormation values (cfn_text, endpoint_service)

Lowest layer: imports nothing from ``infra`` but the package itself.
"""

from infra.assembly.assets import ProductTemplate, asset_templates, product_templates, template_files
from infra.assembly.stacks import (
    MANIFEST,
    AssemblyError,
    StackArtifact,
    is_assembly,
    read_json,
    read_manifest,
    read_stacks,
    resources_of,
)
from infra.assembly.values import cfn_text, endpoint_service

__all__ = [
    "MANIFEST",
    "AssemblyError",
    "ProductTemplate",
    "StackArtifact",
    "asset_templates",
    "cfn_text",
    "endpoint_service",
    "is_assembly",
    "product_templates",
    "read_json",
    "read_manifest",
    "read_stacks",
    "resources_of",
    "template_files",
]
