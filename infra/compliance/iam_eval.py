"""An offline IAM policy evaluator: one request against every policy layer AWS applies.

It follows AWS's documented policy evaluation logic (IAM User Guide, "Policy evaluation logic"):

- an explicit Deny in any layer refuses the request: SCPs, resource policy, VPC endpoint policy,
  permission boundary, identity policies, the passed role's trust;
- every SCP level (organisation root, OUs, account) must allow; the permission boundary, when
  there is one, must allow; then an identity policy or the resource policy must allow (same
  account) or both must (cross account);
- a KMS key policy is the root of a key's access: the identity policies count only when the key
  policy delegates to the account (``arn:aws:iam::<account>:root``);
- a request through a VPC endpoint needs the endpoint policy's Allow as well.

Conditions follow the condition-operator reference: a key absent from the request context makes
a plain operator false and a negated one (``StringNotEquals``, ``ArnNotLike``...) true;
``...IfExists`` is true when the key is absent; ``Null`` tests presence; ``ForAllValues:`` is true
for an absent or empty key and ``ForAnyValue:`` false; several values of one operator are ORed
(NORed for a negated operator). Policy variables (``${aws:PrincipalTag/team}``) are replaced from
the request context; a variable whose key is absent matches nothing.

Why not a library: principalmapper (1.1.5, 2022) evaluates negated operators on absent keys as
false, which hides exactly the denies that rely on absence; the maintained simulator
@cloud-copilot/iam-simulate is AGPL-3.0, which an enterprise template cannot ask its users to
take. ``tests/test_iam_eval.py`` pins each rule above on AWS's documented examples.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

Document = Mapping[str, Any]
Context = Mapping[str, Any]

_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
            "DateNotEquals", "ArnNotEquals", "ArnNotLike", "NotIpAddress"}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM wildcards: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one character."""
    return _wildcards(pattern, case).fullmatch(value) is not None


@lru_cache(maxsize=1 << 16)
def _wildcards(pattern: str, case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, 0 if case else re.IGNORECASE | re.DOTALL)


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _Unresolved(Exception):
    """A policy variable whose key is not in the request context."""


def _substitute(text: str, context: Context) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name
        key, _, default = name.partition(",")
        value = _lookup(context, key.strip())
        if value is None:
            default = default.strip()
            if default.startswith("'") and default.endswith("'"):
                return default[1:-1]
            raise _Unresolved(key)
        return str(_as_list(value)[0])

    return _VARIABLE.sub(replace, text) if "${" in text else text


def _lookup(context: Context, key: str) -> Any:
    """Context keys are case-insensitive; tag keys keep their case (IAM compares tag keys case-insensitively too)."""
    if key in context:
        return context[key]
    lowered = key.lower()
    return next((v for k, v in context.items() if k.lower() == lowered), None)


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts is matched on its own."""
    p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
    if len(p_parts) != len(v_parts):
        return pattern == "*" or _glob(pattern, value)
    return all(_glob(p, v) for p, v in zip(p_parts, v_parts))


def _number(text: Any) -> float:
    return float(text)


def _ip(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _matches(base: str, context_value: Any, policy_value: str) -> bool:
    """Whether one context value matches one policy value under the positive form of ``base``."""
    value = str(context_value) if not isinstance(context_value, bool) else str(context_value).lower()
    positive = base.replace("Not", "", 1) if base in _NEGATED else base
    if positive == "StringEquals":
        return value == policy_value
    if positive == "StringEqualsIgnoreCase":
        return value.lower() == policy_value.lower()
    if positive == "StringLike":
        return _glob(policy_value, value)
    if positive in ("ArnEquals", "ArnLike"):
        return _arn_like(policy_value, value)
    if positive == "Bool":
        return value.lower() == str(policy_value).lower()
    if positive == "IpAddress":
        return _ip(value, policy_value)
    if positive.startswith("Numeric"):
        a, b = _number(value), _number(policy_value)
        return {"NumericEquals": a == b, "NumericLessThan": a < b, "NumericLessThanEquals": a <= b,
                "NumericGreaterThan": a > b, "NumericGreaterThanEquals": a >= b}[positive]
    if positive.startswith("Date"):
        a, b = value, str(policy_value)
        return {"DateEquals": a == b, "DateLessThan": a < b, "DateLessThanEquals": a <= b,
                "DateGreaterThan": a > b, "DateGreaterThanEquals": a >= b}[positive]
    if positive == "BinaryEquals":
        return value == policy_value
    raise ValueError(f"unknown condition operator {base}")


def _condition_holds(operator: str, key: str, policy_values: Any, context: Context) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    present = _lookup(context, key)
    values = _as_list(present)
    if base == "Null":
        wanted = str(_as_list(policy_values)[0]).lower() == "true"
        return (present is None) is wanted
    try:
        resolved = [_substitute(str(v), context) if isinstance(v, str) else str(v).lower()
                    for v in _as_list(policy_values)]
    except _Unresolved:
        resolved = []
    negated = base in _NEGATED

    def one(value: Any) -> bool:
        hit = any(_matches(base, value, p) for p in resolved)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in values)
    if present is None:
        return True if if_exists else negated
    # Without a set operator a multivalued key behaves as ForAnyValue (positive) / none matches (negated).
    return all(one(v) for v in values) if negated else any(one(v) for v in values)


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]] | None, context: Context) -> bool:
    """Every operator, and every key of every operator, must hold (logical AND)."""
    return all(_condition_holds(op, key, values, context)
               for op, block in (conditions or {}).items() for key, values in block.items())


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(_glob(p, action, case=False) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str, context: Context) -> bool:
    for pattern in patterns:
        try:
            if _glob(_substitute(pattern, context), resource):
                return True
        except _Unresolved:
            continue
    return False


def _principal_matches(principal: Any, caller: Principal) -> bool:
    if principal == "*":
        return True
    for kind, values in (principal or {}).items():
        for value in _as_list(values):
            if value == "*" and kind == "AWS":
                return True
            if kind == "AWS" and value in (caller.arn, caller.account, f"arn:aws:iam::{caller.account}:root"):
                return True
            if kind == "Service" and value == caller.service:
                return True
    return False


def statement_applies(statement: Mapping[str, Any], request: Request, caller: Principal | None = None) -> bool:
    """Whether ``statement`` matches the request: principal (resource policies), action, resource, condition."""
    if caller is not None:
        if "Principal" in statement and not _principal_matches(statement["Principal"], caller):
            return False
        if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], caller):
            return False
    if "Action" in statement and not _action_matches(_as_list(statement["Action"]), request.action):
        return False
    if "NotAction" in statement and _action_matches(_as_list(statement["NotAction"]), request.action):
        return False
    if "Resource" in statement and not _resource_matches(_as_list(statement["Resource"]), request.resource, request.context):
        return False
    if "NotResource" in statement and _resource_matches(_as_list(statement["NotResource"]), request.resource, request.context):
        return False
    return conditions_hold(statement.get("Condition"), request.context)


@dataclass(frozen=True)
class Request:
    """One authorization: the IAM action, the resource ARN and the request context."""

    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """The caller: a role (its ARN and account), or a service principal for trust policies."""

    arn: str = ""
    account: str = ""
    service: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed", or the layer that refused and why ("boundary: no Allow", "scp deny DenyX")

    def __bool__(self) -> bool:
        return self.allowed


def _statements(document: Document | None) -> list[Mapping[str, Any]]:
    return _as_list((document or {}).get("Statement"))


def _verdict(documents: Sequence[Document], request: Request, caller: Principal | None = None) -> tuple[str | None, bool]:
    """(sid of the first applying Deny or None, whether some Allow applies) across ``documents``."""
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if statement_applies(statement, request, caller):
                if statement.get("Effect") == "Deny":
                    return statement.get("Sid", "(no sid)"), allowed
                allowed = True
    return None, allowed


@dataclass(frozen=True)
class Layers:
    """What AWS applies to a caller: its identity policies, boundary and SCP levels."""

    identity: Sequence[Document]
    boundary: Document | None = None
    scp_levels: Sequence[Sequence[Document]] = ()


def evaluate(layers: Layers, request: Request, caller: Principal, *, resource_policy: Document | None = None,
             endpoint_policy: Document | None = None, kms_key_policy: Document | None = None,
             resource_account: str | None = None) -> Decision:
    """Whether ``caller`` may make ``request``, given every layer AWS evaluates for it."""
    context = {"aws:PrincipalArn": caller.arn, "aws:PrincipalAccount": caller.account, **request.context}
    request = Request(request.action, request.resource, context)
    for index, level in enumerate(layers.scp_levels):
        deny, allow = _verdict(level, request)
        if deny:
            return Decision(False, f"scp level {index}: {deny}")
        if not allow:
            return Decision(False, f"scp level {index}: no Allow")
    for name, document, caller_for in (("resource policy", resource_policy, caller),
                                       ("key policy", kms_key_policy, caller),
                                       ("endpoint policy", endpoint_policy, caller)):
        if document is not None:
            deny, _ = _verdict([document], request, caller_for)
            if deny:
                return Decision(False, f"{name}: {deny}")
    if layers.boundary is not None:
        deny, allow = _verdict([layers.boundary], request)
        if deny:
            return Decision(False, f"boundary: {deny}")
        if not allow:
            return Decision(False, "boundary: no Allow")
    deny, identity_allows = _verdict(list(layers.identity), request)
    if deny:
        return Decision(False, f"identity: {deny}")
    if endpoint_policy is not None and not _verdict([endpoint_policy], request, caller)[1]:
        return Decision(False, "endpoint policy: no Allow")
    if kms_key_policy is not None:
        key_direct = _verdict([kms_key_policy], request, Principal(caller.arn, "", caller.service))[1]
        delegated = _verdict([kms_key_policy], request, Principal(f"arn:aws:iam::{caller.account}:root",
                                                                    caller.account))[1]
        if key_direct or (delegated and identity_allows):
            return Decision(True, "allowed")
        return Decision(False, "key policy: no Allow" if not delegated else "identity: no Allow")
    resource_allows = resource_policy is not None and _verdict([resource_policy], request, caller)[1]
    cross_account = resource_account is not None and resource_account != caller.account
    if cross_account:
        if identity_allows and resource_allows:
            return Decision(True, "allowed")
        return Decision(False, "resource policy: no Allow" if identity_allows else "identity: no Allow")
    if identity_allows or resource_allows:
        return Decision(True, "allowed")
    return Decision(False, "identity: no Allow")


def trust_allows(trust_policy: Document, service: str, action: str = "sts:AssumeRole",
                 context: Context | None = None) -> bool:
    """Whether a role's trust policy lets ``service`` assume it (what iam:PassRole hands over)."""
    request = Request(action, "*", dict(context or {}))
    deny, allow = _verdict([trust_policy], request, Principal(service=service))
    return allow and not deny


def glob_match(pattern: str, value: str) -> bool:
    """IAM's wildcard match (``fnmatch`` would read ``[`` as a character class)."""
    return _glob(pattern, value)
