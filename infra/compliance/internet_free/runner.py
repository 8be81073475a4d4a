"""Run the rules: every rule over the template itself and over each resource, exemptions applied."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from infra.compliance.internet_free.intrinsics import resources_in
from infra.compliance.internet_free.loader import load_templates
from infra.compliance.internet_free.organisation import UNKNOWN_ORGANISATION, Organisation
from infra.compliance.internet_free.registry import RULES, TEMPLATE, Finding, Rule, Subject, exempted


def _subjects(template: dict) -> Iterator[tuple[str, dict]]:
    """The template itself (as a pseudo resource of type TEMPLATE), then each resource."""
    yield TEMPLATE, {"Type": TEMPLATE, "Metadata": template.get("Metadata", {})}
    yield from resources_in(template)


@lru_cache(maxsize=None)
def _rules_for(resource_type: str) -> tuple[Rule, ...]:
    """The rules that apply to a resource type, in registration order (computed once per type)."""
    return tuple(checked for checked in RULES if checked.applies_to(resource_type))


def check_template(
    template: dict, name: str, organisation: Organisation = UNKNOWN_ORGANISATION
) -> list[Finding]:
    """Run every rule over one template; ``name`` labels the findings.

    ``organisation`` is what "inside" means for the resource and supply-chain perimeters; without
    one, only the template's own account (``AWS::AccountId``) is inside.
    """
    findings = []
    for logical_id, resource in _subjects(template):
        exempt = exempted(resource)
        resource_type = resource.get("Type", "")
        for checked in _rules_for(resource_type if isinstance(resource_type, str) else ""):
            if checked.id in exempt:
                continue
            subject = Subject(logical_id, resource_type, resource, template, organisation, name)
            for message in checked.func(subject):
                findings.append(
                    Finding(name, logical_id, resource_type, checked.id, message, checked.perimeter, checked.fix)
                )
    return findings


def check_paths(paths: Iterable[str | Path], organisation: Organisation = UNKNOWN_ORGANISATION) -> list[Finding]:
    """Load every template under ``paths`` and check it."""
    return [
        finding
        for name, template in load_templates(paths)
        for finding in check_template(template, name, organisation)
    ]
