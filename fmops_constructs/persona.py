"""Persona roles and the permission boundary every role of a team carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_wildcards


class PermissionBoundary(Construct):
    """A customer-managed policy with a deterministic name, used as permissions boundary.

    Its document comes from the caller (``infra.personas.boundary_document``): a ceiling generated
    from the classification of every action, the preventive denies and the guards; the launch
    boundary's name the team boundary's ARN (the caller builds ARNs from ``name``).

    :param name: the policy's name, which every stack that applies the boundary uses.
    :param document: the policy document (IAM JSON).
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, document: dict[str, Any]) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self, "Policy", managed_policy_name=name,
            description="FMOps permission boundary: service ceiling and preventive denies",
            document=iam.PolicyDocument.from_json(document),
        )
        acknowledge_wildcards(self.policy, document, "the boundary's ceiling is generated from the classification "
                              "of every action of its services (infra/personas/actions) and grants nothing by "
                              "itself: it caps what identity policies can grant; its Deny statements are the "
                              "guards (VPC and KMS for SageMaker, guarded Bedrock, roles and tags of the team "
                              "only, read-only audit buckets)")
        acknowledge(self.policy, "boundary-service-ceiling")


class PersonaRole(Construct):
    """One persona of one team: a role humans assume, its generated policy, and the boundary.

    :param role_name: the role's name, also the name of its customer-managed policy.
    :param persona: the persona the role is for (named in the acknowledgment of its wildcards).
    :param description: the role's description (cut to IAM's 1,000 characters).
    :param policy_description: the policy's description.
    :param statements: the policy's statements, generated from the persona's row of the matrix.
    :param boundary: the permission boundary of the role.
    :param principal_arn: who may assume the role (an SSO or federation role). Default: this
        account's root, with MFA required.
    :param tags: tags of the role, e.g. the team and persona that ABAC conditions read. Default: none.
    """

    def __init__(self, scope: Construct, construct_id: str, *, role_name: str, persona: str, description: str,
                 policy_description: str, statements: list[dict[str, Any]], boundary: iam.IManagedPolicy,
                 principal_arn: str | None = None, tags: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, construct_id)
        if principal_arn:
            principal: iam.IPrincipal = iam.ArnPrincipal(principal_arn)
        else:
            principal = iam.AccountRootPrincipal().with_conditions({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
        document = {"Version": "2012-10-17", "Statement": statements}
        self.policy = iam.ManagedPolicy(
            self, "Policy", managed_policy_name=role_name,
            description=policy_description,
            document=iam.PolicyDocument.from_json(document),
        )
        self.role = iam.Role(
            self, "Role", role_name=role_name, assumed_by=principal, description=description[:1000],
            managed_policies=[self.policy], permissions_boundary=boundary,
        )
        for key, value in (tags or {}).items():
            Tags.of(self.role).add(key, value)
        acknowledge_wildcards(self.policy, document, f"generated from the {persona} row of the persona matrix; "
                              "each pattern is limited to the team's name prefix, tag condition or the "
                              "account's own ARNs, and Describe/List calls have no resource-level permissions")
