"""Permissions of a product's service roles: :class:`Grant` statements written as ``Fn::Sub``
templates, and :class:`ProjectRole`, a service role whose policy is made of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from fmops_constructs.acknowledge import acknowledge_resolved_wildcards, acknowledge_wildcards, nag_notation
from fmops_constructs.cfn_text import sub


@dataclass(frozen=True)
class Grant:
    """One Allow statement; resources are ``Fn::Sub`` templates (``${AWS::Region}``,
    ``${SageMakerProjectName}``...) so the same policy reads the same in every account and its
    cdk-nag findings can be named in advance."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] | None = None

    def statement(self) -> iam.PolicyStatement:
        conditions = ({operator: {key: sub(value) if isinstance(value, str) else value
                                  for key, value in block.items()}
                       for operator, block in self.conditions.items()} if self.conditions else None)
        return iam.PolicyStatement(actions=list(self.actions), resources=[sub(r) for r in self.resources],
                                   conditions=conditions)

    def nag_statement(self, scope: IConstruct) -> dict[str, Any]:
        """The statement as cdk-nag sees it, for acknowledging its wildcards one by one."""
        resources = [nag_notation(Stack.of(scope).resolve(sub(r))) for r in self.resources]
        return {"Effect": "Allow", "Action": list(self.actions), "Resource": resources}


class ProjectRole(Construct):
    """A service role of a project: assumed by one AWS service, its permissions one customer-managed
    policy built from :class:`Grant` s (under the project path, with the team's boundary applied
    by the product stack), every wildcard acknowledged with ``why``."""

    def __init__(self, scope: Construct, construct_id: str, *, service: str, description: str,
                 grants: Sequence[Grant], why: str) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal(service), description=description)
        self._why = why
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role], description=description,
                                        statements=[g.statement() for g in grants])
        self.policies = [self.policy]
        self._grants = list(grants)
        self._acknowledge(self._grants)

    def add_policy(self, construct_id: str, statements: Sequence[iam.PolicyStatement], description: str) -> None:
        """Another managed policy of the role, for statements built elsewhere (e.g.
        :class:`~fmops_constructs.product.guardrail_access.TeamGuardrailAccess`); their wildcards
        (the geography of a cross-Region model) are acknowledged one by one with the role's reason."""
        policy = iam.ManagedPolicy(self, construct_id, roles=[self.role], description=description,
                                   statements=list(statements))
        self.policies.append(policy)
        acknowledge_resolved_wildcards(policy, list(statements), self._why)

    def add_grants(self, *grants: Grant) -> None:
        for grant in grants:
            self.policy.add_statements(grant.statement())
        self._grants += grants
        self._acknowledge(list(grants))

    def _acknowledge(self, grants: list[Grant]) -> None:
        document = {"Statement": [g.nag_statement(self) for g in grants]}
        acknowledge_wildcards(self.policy, document, self._why)

    @property
    def role_arn(self) -> str:
        return self.role.role_arn


def network_interface_grants(*, lambda_function: bool = False) -> list[Grant]:
    """What a service needs to attach a project workload to the VPC: the network-interface calls
    (no resource-level scope before the interface exists; held to the stack's Region), the
    Describe calls, and the ECR login of image pulls."""
    writes = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
    writes += (["ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"] if lambda_function else
               ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterfacePermission"])
    reads = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    if not lambda_function:
        reads += ["ec2:DescribeVpcs", "ec2:DescribeDhcpOptions", "ec2:DescribeSecurityGroups",
                  "ecr:GetAuthorizationToken"]
    return [Grant(tuple(writes), ("*",), {"StringEquals": {"aws:RequestedRegion": "${AWS::Region}"}}),
            Grant(tuple(reads), ("*",))]
