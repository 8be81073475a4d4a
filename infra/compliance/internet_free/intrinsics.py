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

import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any


UNKNOWN_TEXT = "{?}"
"""How ``render`` shows a part only known at deploy time."""

ANY_TEXT = "{any}"
"""How ``texts`` shows a plain parameter without AllowedValues: whatever the launcher types."""


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
        allowed = parameter.get("AllowedValues")
        found = list(allowed) if isinstance(allowed, list) else []
        found += [parameter["Default"]] if "Default" in parameter else []
        if found and isinstance(allowed, list) and allowed:
            return found
        if found:
            # No AllowedValues: the default, and whatever else a launch passes (still unknown).
            return [*found, expr]
    return [expr]


def _getatt_values(argument: Any, template: dict, expr: dict) -> list[Any]:
    parts = argument.split(".", 1) if isinstance(argument, str) else argument
    if not isinstance(parts, list) or len(parts) != 2:
        return [expr]
    resource = template_resource(template, parts[0])
    if parts[1] == "CidrBlock" and resource.get("Type") == "AWS::EC2::VPC":
        return values(resource.get("Properties", {}).get("CidrBlock", MISSING), template)
    return [expr]


_PSEUDO_TEXT = {
    "AWS::AccountId": "{self}",  # organisation.SELF_ACCOUNT: the account the stack is deployed in
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
_MAX_TEXTS = 64


def texts(expr: Any, template: dict) -> list[str]:
    """Every text ``expr`` can be: ``Fn::If`` branches, parameter defaults and allowed values (and,
    for a parameter without AllowedValues, any value), joins and substitutions of those.

    ``AWS::AccountId`` is ``{self}``; a plain parameter without AllowedValues is also ``{any}``;
    any other part only known at deploy time is ``{?}``. Beyond 64 combinations, a join is one
    text whose varying parts are all ``{any}``.
    """
    found: list[str] = []
    for value in values(expr, template):
        if value is MISSING:
            continue
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, (int, float, bool)):
            found.append(json.dumps(value))
        elif is_intrinsic(value):
            found += _intrinsic_texts(value, template)
        else:
            found.append(UNKNOWN_TEXT)
    return list(dict.fromkeys(found)) or [""]


def _combine(pieces: list[list[str]], delimiter: str) -> list[str]:
    """Every joined text, at most 64 (each built once: long joins stay linear)."""
    if all(len(options) == 1 for options in pieces):
        return [delimiter.join(options[0] for options in pieces)]
    if math.prod(len(options) for options in pieces) > _MAX_TEXTS:
        # Too many combinations to list: each option of each part still appears in one text (the
        # other parts at their first option), so every value a part can take is judged, and the
        # number of texts grows with the sum of the options, not their product.
        first = [options[0] for options in pieces]
        texts = [delimiter.join(first)]
        for index, options in enumerate(pieces):
            for option in options[1:]:
                texts.append(delimiter.join([*first[:index], option, *first[index + 1:]]))
        return list(dict.fromkeys(texts))
    return [delimiter.join(choice) for choice in itertools.product(*pieces)]


def _intrinsic_texts(expr: dict, template: dict) -> list[str]:
    ((function, argument),) = expr.items()
    if function == "Ref" and argument in _PSEUDO_TEXT:
        return [_PSEUDO_TEXT[argument]]
    if function == "Ref" and isinstance(argument, str):
        parameter = template.get("Parameters", {}).get(argument)
        if isinstance(parameter, dict) and not str(parameter.get("Type", "")).startswith("AWS::SSM::"):
            return [ANY_TEXT]  # values() already gave the default and allowed values
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        parts = values(argument[1], template)
        if len(parts) == 1 and isinstance(parts[0], list):
            return _combine([texts(part, template) for part in parts[0]], str(argument[0]))
    if function == "Fn::Sub":
        text, variables = (argument + [{}])[:2] if isinstance(argument, list) else (argument, {})
        if isinstance(text, str) and isinstance(variables, dict):
            pieces: list[list[str]] = []
            for index, piece in enumerate(re.split(r"\$\{(?!!)([^}]*)\}", text)):
                if index % 2 == 0:
                    pieces.append([piece])
                elif piece in variables:
                    pieces.append(texts(variables[piece], template))
                elif "." not in piece:
                    pieces.append(texts({"Ref": piece}, template))
                else:
                    pieces.append([UNKNOWN_TEXT])
            return _combine(pieces, "")
    if function == "Fn::Select" and isinstance(argument, list) and len(argument) == 2:
        return [t for item in flat(argument[1], template) for t in texts(item, template)]
    return [UNKNOWN_TEXT]


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
