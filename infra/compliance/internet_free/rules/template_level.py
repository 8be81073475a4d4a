"""The template itself: no transforms, no template deployed unchecked, well-formed exemptions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra.compliance.internet_free.intrinsics import MISSING, at, find_keys, parse_json, render, resources_in, show
from infra.compliance.internet_free.predicates import present
from infra.compliance.internet_free.registry import EXEMPT_KEY, TEMPLATE, Subject, exemption_problems, rule
from infra.compliance.internet_free.runner import check_template

PERIMETER = "supply-chain"


@rule("IF-CFN-TRANSFORM", "No transform or macro", TEMPLATE)
def transforms(s: Subject) -> list[str]:
    """A Transform section or Fn::Transform (SAM, AWS::Include, macros) rewrites the template at
    deploy time, so what is checked is not what is deployed.

    Fix: synthesize plain CloudFormation (CDK does) and check the result.
    """
    messages = []
    if "Transform" in s.template:
        messages.append(f"Transform {json.dumps(s.template['Transform'])}: template rewritten at deploy time")
    if any(True for _ in find_keys(s.template.get("Resources", {}), ("Fn::Transform",))):
        messages.append("Fn::Transform: part of the template rewritten at deploy time")
    return messages


_CDK_ASSET_URL = re.compile(r".*cdk-[a-z0-9]+-assets-.*/[0-9a-f]{64}\.json")


_SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:([^:}]+)\}\}")


def _template_urls(s: Subject) -> list[Any]:
    if s.type == "AWS::SageMaker::Project":
        return [url for provider in s.flat("TemplateProviderDetails") if isinstance(provider, dict)
                for url in at(provider, s.template, "CfnTemplateProviderDetail", "TemplateURL")]
    if s.type == "AWS::ServiceCatalog::CloudFormationProduct":
        return [
            url
            for artifact in s.flat("ProvisioningArtifactParameters")
            if isinstance(artifact, dict)
            for url in at(artifact, s.template, "Info", "LoadTemplateFromURL")
        ]
    return s.at("TemplateURL")


def _embedded_findings(s: Subject) -> list[str]:
    """Check a StackSet's inline TemplateBody as a template of its own."""
    messages = []
    for body in parse_json(s.props.get("TemplateBody", MISSING), s.template):
        if not isinstance(body, dict):
            messages.append("TemplateBody cannot be parsed, so it cannot be checked")
            continue
        messages += [
            f"TemplateBody {found.logical_id} ({found.resource_type}) {found.rule_id}: {found.message}"
            for found in check_template(body, s.logical_id, s.organisation)
        ]
    return messages


@rule(
    "IF-CFN-UNCHECKED-TEMPLATE",
    "No template deployed from outside the cloud assembly",
    "AWS::CloudFormation::Stack",
    "AWS::CloudFormation::StackSet",
    "AWS::ServiceCatalog::CloudFormationProduct",
    "AWS::SageMaker::Project",
)
def unchecked_template(s: Subject) -> list[str]:
    """Nested stacks, StackSets and Service Catalog products deploy other templates. CDK nested
    stacks and product stacks are file assets of the cloud assembly (a cdk-*-assets-* bucket
    key that is a 64-hex hash) and ``load_templates`` checks them; a template from any other
    URL is not checked and is a finding. A StackSet's inline JSON TemplateBody is checked here
    (any other body cannot be, and is a finding).

    A SageMaker project from a template provider (``AWS::SageMaker::Project``
    TemplateProviderDetails) runs the template at its URL too: a CDK asset URL, or an SSM dynamic
    reference (``{{resolve:ssm:NAME}}``) to a parameter that a stack of the same cloud assembly
    folder writes with a CDK asset URL (the parameter is read at deploy time; what it holds is
    checked where it is written).

    Fix: build the template with CDK (NestedStack, ProductStack) so it is checked, or check it
    separately and exempt with that reason.
    """
    if s.type == "AWS::CloudFormation::StackSet" and present(s.at("TemplateBody")):
        return _embedded_findings(s)
    messages = []
    for url in _template_urls(s):
        text = render(url, s.template)
        if _CDK_ASSET_URL.fullmatch(text):
            continue
        reference = _SSM_REFERENCE.fullmatch(text)
        if reference and _asset_url_parameter(s, reference[1]):
            continue
        messages.append(f"template from {show(url, s.template)} is not part of the cloud assembly"
                        + (f" (no stack beside this one writes parameter {reference[1]} with a CDK asset URL)"
                           if reference else ""))
    return messages


def _asset_url_parameter(s: Subject, name: str) -> bool:
    """Whether a template beside ``s``'s (same cloud assembly folder) declares the SSM parameter
    ``name`` with a CDK asset URL as its value."""
    from infra.assembly import is_assembly, read_stacks

    folder = Path(s.template_path).parent if s.template_path else None
    if folder is None or not is_assembly(folder):
        return False
    for stack in read_stacks(folder):
        for _, resource in resources_in(stack.template):
            props = resource.get("Properties")
            if resource.get("Type") == "AWS::SSM::Parameter" and isinstance(props, dict) and props.get("Name") == name:
                return bool(_CDK_ASSET_URL.fullmatch(render(props.get("Value"), stack.template)))
    return False


@rule("IF-EXEMPTION", "Exemptions name known rules and give a reason", "*", TEMPLATE)
def exemption(s: Subject) -> list[str]:
    """An exemption is the only way around a rule, so it must say which rules and why; a
    malformed one exempts nothing.

    Fix: Metadata {"fmops:internet-free-exempt": {"rules": ["IF-..."], "reason": "..."}}.
    """
    metadata = s.resource.get("Metadata")
    if not isinstance(metadata, dict) or EXEMPT_KEY not in metadata:
        return []
    return [f"{EXEMPT_KEY} {problem}" for problem in exemption_problems(metadata[EXEMPT_KEY])]
