"""Policy analysis: which statements of a resource or trust policy grant everyone, and which
Deny statements fence a resource off (VPC endpoint, TLS).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from infra.compliance.internet_free.intrinsics import MISSING, flat, is_intrinsic, show, values
from infra.compliance.internet_free.predicates import is_false


_MATCH_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_RESTRICTING_KEYS = frozenset(
    {
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
        "aws:vpceaccount",
        "aws:vpceorgid",
        "aws:vpceorgpaths",
        "kms:calleraccount",
    }
)


def statements_of(document: Any, template: dict) -> list[dict]:
    """The statements of a policy document (an object or a list of branches)."""
    found: list[dict] = []
    for candidate in values(document, template):
        if isinstance(candidate, dict) and not is_intrinsic(candidate):
            found += [
                statement
                for statement in flat(candidate.get("Statement", []), template)
                if isinstance(statement, dict) and not is_intrinsic(statement)
            ]
    return found


def principals_of(principal: Any, template: dict) -> list[Any]:
    """Principal candidates, with ``{"AWS": [...]}`` opened; other kinds become ``Kind:value``."""
    found: list[Any] = []
    for candidate in values(principal, template):
        if isinstance(candidate, dict) and not is_intrinsic(candidate):
            for kind, names in candidate.items():
                opened = flat(names, template)
                if kind in ("AWS", "CanonicalUser"):
                    found += opened
                else:
                    found += [f"{kind}:{show(name, template)}" for name in opened]
        else:
            found.append(candidate)
    return found


def _wildcard(value: Any) -> bool:
    """A condition value that matches anyone: ``*``, or an ARN with a wildcard account."""
    if not isinstance(value, str):
        return False
    if not value.strip("*?"):
        return True
    fields = value.split(":")
    return value.startswith("arn:") and len(fields) > 4 and "*" in fields[4]


def restricts(condition: Any, template: dict) -> bool:
    """True if every branch of ``condition`` ties the caller to a network, account or org.

    Only positive match operators count: ``...IfExists`` and ``ForAllValues:`` pass a request
    that lacks the key (such as one from the internet), and ``aws:SourceIp`` names internet
    addresses, so none of these restrict.
    """
    branches = values(condition, template)
    return all(_restricts_branch(branch, template) for branch in branches)


def _restricts_branch(condition: Any, template: dict) -> bool:
    if not isinstance(condition, dict) or is_intrinsic(condition):
        return False
    for operator, block in condition.items():
        matching = operator.lower().removeprefix("foranyvalue:") in _MATCH_OPERATORS
        if not matching or not isinstance(block, dict):
            continue
        for key, value in block.items():
            if key.lower() in _RESTRICTING_KEYS and not any(_wildcard(v) for v in flat(value, template)):
                return True
    return False


_NEGATED_OPERATORS = frozenset(
    f"{base}{suffix}"
    for base in ("stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike")
    for suffix in ("", "ifexists")
)
_FENCE = {(operator, key) for operator in _NEGATED_OPERATORS for key in _RESTRICTING_KEYS}
_BOOL_OPERATORS = ("bool", "boolifexists")
VPC_GUARD = {
    (operator, key)
    for operator in ("stringnotequals", "stringnotequalsifexists")
    for key in ("aws:sourcevpce", "aws:sourcevpc")
}
TLS_GUARD = {(operator, "aws:securetransport") for operator in _BOOL_OPERATORS}
_SERVICE_CARVE_OUTS = {
    (operator, key) for operator in _BOOL_OPERATORS for key in ("aws:principalisawsservice", "aws:viaawsservice")
}
_CALLED_VIA_CARVE_OUTS = {
    (operator, key)
    for operator in ("stringnotequals", "forallvalues:stringnotequals")
    for key in ("aws:calledvia", "aws:calledviafirst", "aws:calledvialast")
}
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com")


def _carve_out(pair: tuple[str, str], candidates: list[Any]) -> bool:
    """A condition that only exempts AWS services acting for a caller (never a network or a person):
    aws:PrincipalIsAWSService/aws:ViaAWSService false, or aws:CalledVia not a named AWS service.
    """
    if pair in _SERVICE_CARVE_OUTS:
        return all(is_false(value) for value in candidates)
    return pair in _CALLED_VIA_CARVE_OUTS and all(
        isinstance(value, str) and _SERVICE_PRINCIPAL.fullmatch(value) for value in candidates
    )


def denied_actions(statement: dict, template: dict) -> list[str] | None:
    """The actions of a Deny-to-everyone statement, or None if it is not one."""
    principals = principals_of(statement.get("Principal"), template)
    if (
        values(statement.get("Effect"), template) != ["Deny"]
        or "NotPrincipal" in statement
        or "NotAction" in statement
        or not principals
        or any(principal != "*" for principal in principals)
    ):
        return None
    return [action for action in flat(statement.get("Action"), template) if isinstance(action, str)]


def covers(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def specific(value: Any) -> bool:
    return not _wildcard(value)


def only_conditions(
    statement: dict, template: dict, guard: set[tuple[str, str]], guard_value: Callable[[Any], bool]
) -> bool:
    """True if the conditions are ``guard`` (at least once, every value passing ``guard_value``)
    plus AWS-service carve-outs only.

    Any other condition key would let some caller skip a Deny, so it disqualifies the statement.
    """
    conditions = values(statement.get("Condition"), template)
    if len(conditions) != 1 or not isinstance(conditions[0], dict) or is_intrinsic(conditions[0]):
        return False
    found = False
    for operator, block in conditions[0].items():
        if not isinstance(block, dict):
            return False
        for key, value in block.items():
            pair = (operator.lower(), key.lower())
            candidates = flat(value, template)
            if pair in guard and all(guard_value(v) for v in candidates):
                found = True
            elif not _carve_out(pair, candidates):
                return False
    return found


def _fences(statements: list[dict], template: dict) -> list[list[str]]:
    """Denied actions of each statement that denies everyone outside a VPC, account or org."""
    return [
        actions
        for statement in statements
        if (actions := denied_actions(statement, template)) is not None
        and only_conditions(statement, template, _FENCE, specific)
    ]


def _fenced(statement: dict, fences: list[list[str]], template: dict) -> bool:
    actions = [action for action in flat(statement.get("Action"), template) if isinstance(action, str)]
    return bool(actions) and all(any(covers(fence, action) for fence in fences) for action in actions)


def public_statements(document: Any, template: dict) -> list[str]:
    """Messages for Allow statements that grant everyone without a restricting condition.

    An Allow to '*' is not public when the same document denies all its actions to everyone
    outside a VPC endpoint, VPC, account or organisation (the usual private API policy).
    """
    statements = statements_of(document, template)
    fences = _fences(statements, template)
    messages = []
    for number, statement in enumerate(statements, start=1):
        label = statement.get("Sid") or f"#{number}"
        if "Allow" not in values(statement.get("Effect"), template) or _fenced(statement, fences, template):
            continue
        if "NotPrincipal" in statement:
            messages.append(f"statement {label}: Allow with NotPrincipal grants everyone else")
        elif "*" in principals_of(statement.get("Principal"), template) and not restricts(
            statement.get("Condition", MISSING), template
        ):
            messages.append(
                f"statement {label}: allows Principal '*' with no condition on source VPC/endpoint, "
                "account, organisation or source ARN"
            )
    return messages
