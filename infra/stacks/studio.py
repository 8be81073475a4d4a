"""Per workload account with Studio teams: the VpcOnly SageMaker domain and the teams' user profiles.

One profile per team and Studio persona, named ``<team>-<persona>`` (the name the persona
roles may open); the Studio personas are the team personas whose ``use-studio`` cell in the
persona matrix (``infra/personas/matrix.yaml``) is ``allow``. Each profile has its own
execution role, named ``<org>-<team>-<persona>-studio`` (:func:`infra.naming.studio_role_name`),
bounded by the team's permission boundary, a customer-managed policy of the team stack with the
deterministic name ``<org>-<team>-boundary``: it is referenced by ARN, not by a cross-stack
reference, and the app makes this stack depend on the team stacks so the policy exists first.
The role also carries the persona's own policy (``<org>-<team>-<persona>``, the persona's row
of the access matrix, from the team stack), so a person can do in Studio what the persona role
can do outside it, and no more.

The execution roles of the team's launchers (``create-project: allow``) in a team with Service
Catalog also get what SageMaker Studio needs to list and launch the team's project templates
(:func:`infra.personas.launchers.studio_launch_statements`); the team's catalog stack associates the
same roles, by name, with the team's portfolio. Plain data scientists get neither.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge_wildcards
from fmops_constructs.cfn_text import nag_document, policy_document
from fmops_constructs.package_mirror import PackageMirrorRef
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.studio import StudioDomain, StudioUserProfile
from infra import naming
from infra.personas.launchers import studio_launch_statements
from infra.plan import AccountPlan, TeamPlan
from infra.plan.launchers import studio_personas


class StudioStack(Stack):
    """The account's Studio domain, shared by its Studio teams, and their user profiles."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: AccountPlan, network: PrivateNetwork,
                 package_mirror: PackageMirrorRef, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        account, teams = plan.account, plan.studio_teams
        if not teams:
            raise ValueError(f"account {account.name} has no team with the studio feature")
        org = plan.org.organisation
        self.domain = StudioDomain(
            self, "Studio",
            domain_name=f"{org.name}-{account.name}",
            vpc=network.vpc,
            subnets=network.subnets,
            vpc_cidr=network.cidr,
            package_mirror=package_mirror,
            custom_image_prefix=org.name,
            log_retention_days=org.log_retention_days,
        )
        self.profiles: dict[tuple[str, str], StudioUserProfile] = {}
        for team in teams:
            boundary = iam.ManagedPolicy.from_managed_policy_arn(
                self, f"{team.name}-boundary", naming.boundary_arn("aws", account.id, org.name, team.name))
            launchers = team.studio_launchers if team.has_catalog else ()
            for persona in studio_personas():
                profile = self.domain.add_user_profile(
                    f"{team.name}-{persona}", profile_name=naming.studio_user_profile_name(team.name, persona),
                    permissions_boundary=boundary, key_tag=naming.TAG_TEAM,
                    tags={naming.TAG_TEAM: team.name, naming.TAG_PERSONA: persona},
                    role_name=team.studio_role_name(persona))
                # In Studio the person works as this role: it carries the persona's own policy
                # (the access matrix row), by name, next to the Studio permissions.
                profile.role.add_managed_policy(iam.ManagedPolicy.from_managed_policy_name(
                    self, f"{team.name}-{persona}-persona", team.persona_role_name(persona)))
                self.profiles[(team.name, persona)] = profile
                if persona in launchers:
                    self._allow_project_launches(team, profile)

    @staticmethod
    def _allow_project_launches(team: TeamPlan, profile: StudioUserProfile) -> None:
        """The launcher's Studio role may list and launch the team's project templates."""
        statements = studio_launch_statements(team)
        policy = profile.add_policy("ProjectLaunch", document=policy_document(statements),
                                    description=f"Launch team {team.name}'s project templates from SageMaker Studio")
        acknowledge_wildcards(
            policy, nag_document(statements),
            "SageMaker projects backed by Service Catalog: search and list calls have no resource-level "
            "permissions; launches are limited to products tagged with the team (aws:ResourceTag) in the portfolio "
            "the role is associated with, provisioning records to the account (servicecatalog:accountLevel), "
            "changes to what the role itself launched (servicecatalog:roleLevel), project stack events to "
            "provisioned-product stacks, SageMaker projects to those tagged with the team")
