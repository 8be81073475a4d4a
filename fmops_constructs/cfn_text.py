"""Text with ``${...}`` variables written as CloudFormation ``Fn::Sub``: strings, JSON documents
and IAM policy documents.

Policies written this way (``arn:${AWS::Partition}:...:${AWS::AccountId}:...``) read the same in
every account, so a product template works in each account of a team and the cdk-nag finding a
wildcard raises can be named, and acknowledged, in advance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from aws_cdk import Fn, Token
from aws_cdk import aws_iam as iam

from fmops_constructs.acknowledge import nag_form

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def unresolved(value: Any) -> bool:
    """``Token.is_unresolved`` for strings and lists without a call into the jsii kernel, which
    costs ~0.1 ms and is made tens of thousands of times per synth here: CDK encodes a string
    token as ``${Token[...]}`` and a list token as an element ``#{Token[...]}``."""
    if isinstance(value, str):
        return "${Token[" in value
    if isinstance(value, list):
        return any(isinstance(v, str) and "#{Token[" in v for v in value)
    return Token.is_unresolved(value)


def sub(text: str) -> str:
    """``Fn::Sub`` for text with ``${...}`` variables; tokens and plain text as they are."""
    if unresolved(text) or not _SUB_VARIABLE.search(text):
        return text
    return fn_sub(text)


@lru_cache(maxsize=None)
def fn_sub(text: str) -> str:
    """``Fn.sub(text)``, made once per text: the token it returns is bound to no scope (it
    resolves to the same ``Fn::Sub`` in every stack), and each call is a jsii round trip."""
    return Fn.sub(text)


def json_text(value: Any) -> str:
    """``value`` as JSON text that may contain deploy-time values (an ``Fn::Join``).

    CDK's ``Stack.to_json_string`` turns a list token (a ``List<String>`` parameter) into a
    custom resource with a Lambda function; here a list token becomes ``["a","b"]`` through
    ``Fn::Join`` and nothing runs at deploy time. Deploy-time strings are IDs, ARNs and names,
    which need no JSON escaping.
    """
    parts: list[str] = []

    def emit(item: Any) -> None:
        if isinstance(item, str):
            parts.extend(['"', item, '"'] if unresolved(item) else [json.dumps(item)])
        elif isinstance(item, list) and unresolved(item):
            parts.extend(['["', Fn.join('","', item), '"]'])
        elif isinstance(item, (list, tuple)):
            parts.append("[")
            for index, element in enumerate(item):
                parts.append("," if index else "")
                emit(element)
            parts.append("]")
        elif isinstance(item, Mapping):
            parts.append("{")
            for index, (key, element) in enumerate(item.items()):
                parts.append(("," if index else "") + json.dumps(key) + ":")
                emit(element)
            parts.append("}")
        else:
            parts.append(json.dumps(item))

    emit(value)
    merged: list[str] = []
    for part in parts:
        if merged and not unresolved(part) and not unresolved(merged[-1]):
            merged[-1] += part
        else:
            merged.append(part)
    return Fn.join("", merged)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> iam.PolicyDocument:
    """A policy document from statements whose strings may hold ``${...}`` variables (each such
    string becomes ``Fn::Sub``)."""
    def value(item: Any) -> Any:
        if isinstance(item, str):
            return sub(item)
        if isinstance(item, list):
            return [value(v) for v in item]
        if isinstance(item, dict):
            return {k: value(v) for k, v in item.items()}
        return item
    return iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": [value(dict(s)) for s in statements]})


def nag_document(statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The same statements as cdk-nag names them, for :func:`~fmops_constructs.acknowledge.acknowledge_wildcards`."""
    def names(resources: Any) -> list[str]:
        return [nag_form(r) for r in ([resources] if isinstance(resources, str) else resources)]
    return {"Statement": [{**s, "Resource": names(s["Resource"])} for s in statements]}
