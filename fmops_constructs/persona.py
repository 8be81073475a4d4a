"""Persona roles and the permission boundary every role of a team carries."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_wildcards


class PermissionBoundary(Construct):
    """A customer-managed policy with a deterministic name, used as permissions boundary.

    Its document comes from the caller (``infra.personas.boundary_document``): a ceiling of the
    services the platform uses, the preventive denies, and the denies that keep the boundary
    in place (no role without it, no removal, no edit).
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, document: dict[str, Any]) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self, "Policy", managed_policy_name=name,
            description="FMOps permission boundary: service ceiling and preventive denies",
            document=iam.PolicyDocument.from_json(document),
        )
        acknowledge_wildcards(self.policy, document, "the boundary's service ceiling grants nothing by itself; "
                              "it caps what identity policies can grant, and its Deny statements are the "
                              "preventive controls (no internet paths, VPC and KMS for SageMaker, guarded "
                              "Bedrock)")
        acknowledge(self.policy, "boundary-service-ceiling")

    @staticmethod
    def arn_for(stack: Stack, name: str) -> str:
        return f"arn:aws:iam::{stack.account}:policy/{name}"


class PersonaRole(Construct):
    """One persona of one team: a role humans assume, its generated policy, and the boundary.

    Trust: ``principal_arn`` (an SSO/federation role) or, if None, this account's root with MFA
    required. Tags ``fmops:team`` and ``fmops:persona`` drive ABAC and the access matrix tests.
    """

    def __init__(self, scope: Construct, construct_id: str, *, role_name: str, team: str, persona: str,
                 description: str, statements: list[dict[str, Any]], boundary: iam.IManagedPolicy,
                 principal_arn: str | None = None) -> None:
        super().__init__(scope, construct_id)
        if principal_arn:
            principal: iam.IPrincipal = iam.ArnPrincipal(principal_arn)
        else:
            principal = iam.AccountRootPrincipal().with_conditions({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
        document = {"Version": "2012-10-17", "Statement": statements}
        self.policy = iam.ManagedPolicy(
            self, "Policy", managed_policy_name=role_name,
            description=f"{persona} of {team}, generated from infra/personas/matrix.yaml",
            document=iam.PolicyDocument.from_json(document),
        )
        self.role = iam.Role(
            self, "Role", role_name=role_name, assumed_by=principal, description=description[:1000],
            managed_policies=[self.policy], permissions_boundary=boundary,
        )
        Tags.of(self.role).add("fmops:team", team)
        Tags.of(self.role).add("fmops:persona", persona)
        acknowledge_wildcards(self.policy, document, f"generated from the {persona} row of the persona matrix; "
                              "each pattern is limited to the team's name prefix, tag condition or the "
                              "account's own ARNs, and Describe/List calls have no resource-level permissions")
