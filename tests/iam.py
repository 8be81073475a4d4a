"""The evaluation calls of the tests, on the project's IAM evaluator (``infra.compliance.iam_eval``).

``Node``, ``Policy`` and ``local_check_authorization_full`` keep the shapes the tests were first
written against (principalmapper's), so each test reads as before; the evaluation is the
project's, which handles absent keys with negated operators as AWS documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.compliance.iam_eval import Layers, Principal, Request, evaluate


@dataclass
class Policy:
    arn: str
    name: str
    policy_doc: dict


@dataclass
class Node:
    """A role: ``arn``, its identity policies, its boundary (or None) and its tags."""

    arn: str
    id_value: str = ""
    attached_policies: list[Policy] = field(default_factory=list)
    group_memberships: list = field(default_factory=list)
    trust_policy: dict | None = None
    instance_profile: Any = None
    num_access_keys: int = 0
    active_password: bool = False
    is_admin: bool = False
    permissions_boundary: Policy | None = None
    has_mfa: bool = False
    tags: dict = field(default_factory=dict)


def local_check_authorization_full(node: Node, action: str, resource: str, context: dict | None,
                                   resource_policy: dict | None = None, resource_owner: str | None = None,
                                   scps: list[list[Policy]] | None = None, _session_policy: Any = None) -> bool:
    """Whether ``node`` may make the request, given its policies, boundary, the SCP levels and the
    resource's policy (``resource_owner``: the resource's account, for cross-account requests)."""
    account = node.arn.split(":")[4]
    layers = Layers([p.policy_doc for p in node.attached_policies],
                    node.permissions_boundary.policy_doc if node.permissions_boundary else None,
                    [[p.policy_doc for p in level] for level in (scps or [])])
    context = {**{f"aws:PrincipalTag/{k}": v for k, v in (node.tags or {}).items()}, **(context or {})}
    return bool(evaluate(layers, Request(action, resource, context), Principal(node.arn, account),
                         resource_policy=resource_policy, resource_account=resource_owner))
