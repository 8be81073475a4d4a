"""Intrinsic functions: every value a template property can take, as far as the template tells.

``values()`` resolves what a template can tell: ``Fn::If`` yields both branches (the
condition is not evaluated), ``Ref: AWS::NoValue`` yields ``MISSING``, a ``Ref`` to a
parameter yields its ``Default`` and ``AllowedValues``, ``Fn::Join``/``Fn::Sub`` of literals
are joined, and ``Fn::GetAtt`` of a template VPC's ``CidrBlock`` yields that CIDR. Whatever
is left (attributes, imports, parameters without default) is *unknown*. The choice per kind
of value, also stated in each rule that departs from it:

* switches and enums that open a path (``PubliclyAccessible``, ``Scheme``,
  ``AppNetworkAccessType``...): unknown is a finding, because a deploy-time value may open it;
* required settings (``VpcConfig``, subnets, ``VPCOptions``): the property must be present
  in every branch; an unknown value that is present (an imported subnet list) is accepted;
* CIDRs and IPs in routes and DNS forwarding: unknown is a finding; in security group and
  network ACL rules unknown is accepted, since CDK writes the literal ``0.0.0.0/0`` for
  ``anyIpv4`` and peer CIDRs usually are imported VPC ranges;
* principals in resource policies: only ``"*"`` (literal, a branch, or a parameter's
  default/allowed value) is public; ARNs built from attributes are accepted;
* policy documents built as strings (``Fn::Join``) are parsed with ``{?}`` standing for
  the unknown parts; a document that still cannot be parsed is a finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any


UNKNOWN_TEXT = "{?}"
"""How ``render`` shows a part only known at deploy time."""


class _Missing:
    """Marker for a property that is absent or resolves to ``AWS::NoValue``."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def is_intrinsic(value: Any) -> bool:
    """True for ``{"Ref": ...}`` and ``{"Fn::...": ...}``: a value only known at deploy time."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key == "Ref" or key.startswith("Fn::")


def values(expr: Any, template: dict) -> list[Any]:
    """Every value ``expr`` can take, as far as the template tells (see module docstring)."""
    if not is_intrinsic(expr):
        return [expr]
    ((function, argument),) = expr.items()
    if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
        return values(argument[1], template) + values(argument[2], template)
    if function == "Ref":
        return _ref_values(argument, template, expr)
    if function == "Fn::GetAtt":
        return _getatt_values(argument, template, expr)
    if function in ("Fn::Join", "Fn::Sub") and UNKNOWN_TEXT not in (text := render(expr, template)):
        return [text]
    return [expr]


def _ref_values(name: Any, template: dict, expr: dict) -> list[Any]:
    if name == "AWS::NoValue":
        return [MISSING]
    parameter = template.get("Parameters", {}).get(name) if isinstance(name, str) else None
    if isinstance(parameter, dict):
        found = list(parameter.get("AllowedValues", []))
        found += [parameter["Default"]] if "Default" in parameter else []
        if found:
            return found
    return [expr]


def _getatt_values(argument: Any, template: dict, expr: dict) -> list[Any]:
    parts = argument.split(".", 1) if isinstance(argument, str) else argument
    if not isinstance(parts, list) or len(parts) != 2:
        return [expr]
    resource = template_resource(template, parts[0])
    if parts[1] == "CidrBlock" and resource.get("Type") == "AWS::EC2::VPC":
        return values(resource.get("Properties", {}).get("CidrBlock", MISSING), template)
    return [expr]


def at(node: Any, template: dict, *path: str) -> list[Any]:
    """Candidate values at ``path`` below ``node``: MISSING where absent, intrinsics kept."""
    current = values(node, template)
    for key in path:
        following: list[Any] = []
        for value in current:
            if is_intrinsic(value):
                following.append(value)
            elif isinstance(value, dict) and key in value:
                following += values(value[key], template)
            else:
                following.append(MISSING)
        current = following
    return current


def flat(expr: Any, template: dict) -> list[Any]:
    """Candidate values of ``expr`` with lists (and lists of lists) opened into elements."""
    found: list[Any] = []
    for value in values(expr, template):
        if isinstance(value, list):
            for item in value:
                found += flat(item, template)
        else:
            found.append(value)
    return found


def render(expr: Any, template: dict) -> str:
    """``expr`` as text, with each part only known at deploy time shown as ``{?}``."""
    if expr is MISSING:
        return ""
    if isinstance(expr, str):
        return expr
    if not isinstance(expr, (dict, list)):
        return json.dumps(expr)
    if is_intrinsic(expr):
        ((function, argument),) = expr.items()
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
            delimiter, parts = argument
            return str(delimiter).join(render(part, template) for part in parts)
        if function == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) else argument
            if isinstance(text, str):
                return re.sub(r"\$\{(?!!)[^}]*\}", UNKNOWN_TEXT, text)
    return UNKNOWN_TEXT


def references(expr: Any, template: dict, resource_type: str) -> bool:
    """True if ``expr`` contains a Ref or GetAtt to a template resource of ``resource_type``."""
    return any(
        template_resource(template, target).get("Type") == resource_type for target in referenced_ids(expr)
    )


def referenced_ids(expr: Any) -> Iterator[str]:
    if isinstance(expr, list):
        for item in expr:
            yield from referenced_ids(item)
    elif isinstance(expr, dict):
        if isinstance(expr.get("Ref"), str):
            yield expr["Ref"]
        getatt = expr.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt and isinstance(getatt[0], str):
            yield getatt[0]
        elif isinstance(getatt, str):
            yield getatt.split(".", 1)[0]
        for value in expr.values():
            yield from referenced_ids(value)


def resources_in(template: dict) -> Iterator[tuple[str, dict]]:
    """(logical id, resource) of every well-formed resource of the template."""
    resources = template.get("Resources")
    for logical_id, resource in (resources.items() if isinstance(resources, dict) else []):
        if isinstance(resource, dict):
            yield logical_id, resource


def template_resource(template: dict, logical_id: Any) -> dict:
    """The template's resource ``logical_id``, or ``{}``."""
    resource = template.get("Resources", {}).get(logical_id) if isinstance(logical_id, str) else None
    return resource if isinstance(resource, dict) else {}


def show(value: Any, template: dict) -> str:
    """A short human form of a candidate value for messages."""
    if value is MISSING:
        return "(not set)"
    text = render(value, template)
    return text if text != UNKNOWN_TEXT else json.dumps(value, default=str)[:80]


def find_keys(node: Any, names: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """Every (key, value) below ``node`` whose key is in ``names``, through intrinsics too."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in names:
                yield key, value
            yield from find_keys(value, names)
    elif isinstance(node, list):
        for item in node:
            yield from find_keys(item, names)


def parse_json(expr: Any, template: dict) -> list[Any]:
    """Parse a JSON string (or a Join/Sub building one); unparseable candidates become MISSING.

    Candidates that are absent are skipped.
    """
    parsed = []
    for candidate in values(expr, template):
        if candidate is MISSING:
            continue
        if isinstance(candidate, (dict, list)) and not is_intrinsic(candidate):
            parsed.append(candidate)
            continue
        try:
            parsed.append(json.loads(render(candidate, template)))
        except ValueError:
            parsed.append(MISSING)
    return parsed
