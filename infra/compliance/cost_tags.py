"""Cost-allocation tags on every taggable resource: a check that fails the synth.

Budgets and cost reports per team rely on the tags ``fmops:organisation``, ``fmops:team`` and
``fmops:cost-centre`` (activate them as cost allocation tags in the billing console). Which
resource types are taggable, and in which property, comes from the CloudFormation resource
provider schemas that cfn-lint ships (``tagging.taggable`` and ``tagging.tagProperty``), so the
check knows every type without a list of our own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import aws_cdk as cdk
import jsii

REQUIRED_TAGS = ("fmops:organisation", "fmops:cost-centre")
PLUGIN_NAME = "fmops-cost-tags"
PLUGIN_VERSION = "1.0.0"


@dataclass(frozen=True)
class Untagged:
    template: str
    logical_id: str
    resource_type: str
    missing: tuple[str, ...]


@cache
def _tag_property(resource_type: str, region: str) -> str | None:
    """Name of the tag property of a taggable type, None when the type takes no tags."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    if not resource_type.startswith("AWS::"):
        return None
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except Exception:  # cfn-lint raises its own not-found error for types it does not know
        return None
    tagging = schema.get("tagging", {})
    if not tagging.get("taggable") or not tagging.get("tagOnCreate", True):
        return None
    return tagging.get("tagProperty", "/properties/Tags").rsplit("/", 1)[-1]


def _tag_keys(value: Any) -> set[str]:
    """Keys of a Tags property in list ({Key, Value}) or map form."""
    if isinstance(value, list):
        return {t["Key"] for t in value if isinstance(t, dict) and isinstance(t.get("Key"), str)}
    if isinstance(value, dict) and not any(k.startswith("Fn::") or k == "Ref" for k in value):
        return set(value)
    return set()


def check_template(template: dict, name: str, region: str = "us-east-1") -> list[Untagged]:
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        prop = _tag_property(resource.get("Type", ""), region)
        if prop is None:
            continue
        keys = _tag_keys(resource.get("Properties", {}).get(prop))
        missing = tuple(tag for tag in REQUIRED_TAGS if tag not in keys)
        if missing:
            found.append(Untagged(name, logical_id, resource["Type"], missing))
    return found


@jsii.implements(cdk.IPolicyValidationPlugin)
class CostAllocationTagChecks:
    """Fails the synth when a taggable resource lacks a cost-allocation tag."""

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def rule_ids(self) -> list[str]:
        return ["COST-TAGS"]

    @property
    def version(self) -> str:
        return PLUGIN_VERSION

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        untagged = []
        for path in context.template_paths:
            with open(path, encoding="utf-8") as handle:
                untagged += check_template(json.load(handle), path)
        violations = [
            cdk.PolicyViolation(
                rule_name="COST-TAGS",
                description=f"taggable resource without cost-allocation tags {', '.join(u.missing)}",
                fix="tag the stack or construct (Tags.of(scope).add) in infra/app/builder.py",
                violating_resources=[cdk.PolicyViolatingResource(
                    resource_logical_id=u.logical_id, template_path=u.template, locations=[u.resource_type])],
            )
            for u in untagged
        ]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations,
                                                plugin_version=PLUGIN_VERSION)
