"""The rule registry: ``@rule``, what a rule sees (``Subject``), what it reports (``Finding``),
and exemptions.

Every rule is one small function registered with ``@rule(id, title, *resource_types)`` in one of
the ``rules/`` modules; rules run, and are reported, in registration order. The function's
docstring says which path to or from the internet it closes and, after ``Fix:``, how to close
it; ``infra/compliance/internet_free/reference.py`` writes ``docs/internet-free-rules.md`` from
these.

Exemptions
----------
A resource is exempt from named rules only through its metadata::

    "Metadata": {"fmops:internet-free-exempt": {"rules": ["IF-..."], "reason": "why"}}

(the template's top-level ``Metadata`` does the same for template-level rules). The reason
must be a non-empty string and every id a known rule; otherwise IF-EXEMPTION reports it and
the entry exempts nothing. IF-EXEMPTION itself cannot be exempted.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from infra.compliance.internet_free.intrinsics import at, flat, resources_in
from infra.compliance.internet_free.organisation import UNKNOWN_ORGANISATION, Organisation


EXEMPT_KEY = "fmops:internet-free-exempt"
TEMPLATE = "(template)"
"""Pseudo resource type of the template itself, for template-level rules."""

PERIMETERS: dict[str, str] = {
    "network": "every path to or from the internet, and everything that can change one: routes, "
    "gateways, attachments, shares, DNS resolution and its firewall, public endpoints",
    "resource": "every resource policy, trust and share admits only the accounts and organisation of the "
    "config, and data is delivered only to them",
    "supply-chain": "nothing is fetched from outside the organisation at build or run time: only the "
    "organisation's package and image mirror, AWS-owned registries and the organisation's S3 locations; "
    "what is deployed is what was checked",
}
"""The three perimeters, as in AWS's data-perimeter guidance; every rule belongs to one."""


@dataclass(frozen=True)
class Finding:
    """One rule broken by one resource of one template."""

    template: str
    logical_id: str
    resource_type: str
    rule_id: str
    message: str
    perimeter: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Subject:
    """The resource under check, with its template for cross-references."""

    logical_id: str
    type: str
    resource: dict
    template: dict
    organisation: Organisation = UNKNOWN_ORGANISATION
    template_path: str = ""
    """The template's file, when checked from one: documents beside it (CDK Pipelines' build
    specs in cdk.out) are read from its folder."""

    @property
    def props(self) -> dict:
        properties = self.resource.get("Properties")
        return properties if isinstance(properties, dict) else {}

    def at(self, *path: str) -> list[Any]:
        """Candidate values at ``path`` below the resource's Properties."""
        return at(self.props, self.template, *path)

    def flat(self, *path: str) -> list[Any]:
        """Candidate values at ``path``, with lists opened into their elements."""
        return [item for value in self.at(*path) for item in flat(value, self.template)]

    def resources(self, resource_type: str) -> Iterator[tuple[str, dict]]:
        """The template's resources of one type."""
        for logical_id, resource in resources_in(self.template):
            if resource.get("Type") == resource_type:
                yield logical_id, resource


@dataclass(frozen=True)
class Rule:
    """A named check; ``check`` returns one message per problem found."""

    id: str
    title: str
    types: tuple[str, ...]
    func: Callable[[Subject], list[str]]
    perimeter: str

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def description(self) -> str:
        """The docstring before ``Fix:``: which path to or from the internet the rule closes."""
        return self.doc.partition("Fix:")[0].strip()

    @property
    def fix(self) -> str:
        return " ".join(self.doc.partition("Fix:")[2].split())

    @property
    def family(self) -> str:
        """The module that defines the rule (``rules/<family>.py``): its family of rules."""
        return self.func.__module__.rsplit(".", 1)[-1]

    def applies_to(self, resource_type: str) -> bool:
        """Exact type, or a prefix pattern ending in ``*`` (never the template itself)."""
        return any(
            resource_type == pattern
            or (pattern.endswith("*") and resource_type != TEMPLATE and resource_type.startswith(pattern[:-1]))
            for pattern in self.types
        )

    def check(
        self,
        logical_id: str,
        resource: dict,
        template: dict,
        organisation: Organisation = UNKNOWN_ORGANISATION,
        template_path: str = "",
    ) -> list[str]:
        resource_type = resource.get("Type", "")
        if not self.applies_to(resource_type):
            return []
        return self.func(Subject(logical_id, resource_type, resource, template, organisation, template_path))


RULES: list[Rule] = []


def rule(
    rule_id: str, title: str, *types: str, perimeter: str | None = None
) -> Callable[[Callable[[Subject], list[str]]], Callable]:
    """Register the decorated function as rule ``rule_id`` for ``types`` (in definition order).

    The rule belongs to ``perimeter``, by default its module's ``PERIMETER``.
    """

    def register(func: Callable[[Subject], list[str]]) -> Callable[[Subject], list[str]]:
        chosen = perimeter or getattr(sys.modules[func.__module__], "PERIMETER", None)
        if chosen not in PERIMETERS:
            raise ValueError(f"rule {rule_id}: perimeter {chosen!r} is not one of {', '.join(PERIMETERS)}")
        RULES.append(Rule(rule_id, title, types, func, chosen))
        return func

    return register


def exemption_problems(entry: Any) -> list[str]:
    if not isinstance(entry, dict):
        return ["must be an object with 'rules' and 'reason'"]
    problems = []
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append("has no reason")
    rule_ids = entry.get("rules")
    if not isinstance(rule_ids, list) or not rule_ids:
        problems.append("names no rules")
    else:
        known = {r.id for r in RULES if r.id != "IF-EXEMPTION"}
        problems += [
            f"names unknown or unexemptable rule {rule_id!r}" for rule_id in rule_ids if rule_id not in known
        ]
    return problems


def exempted(resource: dict) -> frozenset[str]:
    """Rule ids a well-formed exemption in the resource's metadata names."""
    metadata = resource.get("Metadata")
    entry = metadata.get(EXEMPT_KEY) if isinstance(metadata, dict) else None
    if entry is None or exemption_problems(entry):
        return frozenset()
    return frozenset(entry["rules"])
