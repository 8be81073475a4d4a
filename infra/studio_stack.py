"""Per workload account with Studio teams: the VpcOnly SageMaker domain and the teams' user profiles.

One profile per team and Studio persona, named ``<team>-<persona>`` (the name the persona
roles may open); the Studio personas are the team personas whose ``use-studio`` cell in the
persona matrix (``infra/personas/matrix.yaml``) is ``allow``. Each profile has its own
execution role bounded by the team's permission boundary, a customer-managed policy of the
team stack with the deterministic name ``<org>-<team>-boundary``: it is referenced by ARN, not
by a cross-stack reference, and the app makes this stack depend on the team stacks so the
policy exists first.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from fmops_constructs.package_mirror import PackageMirrorRef
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.studio import StudioDomain, StudioUserProfile
from infra.config import Account, Feature, OrgConfig, Team
from infra.personas import Cell, boundary_name, load_matrix

USE_STUDIO = "use-studio"


def studio_personas() -> list[str]:
    """Team personas the persona matrix lets open Studio, in matrix order."""
    matrix = load_matrix()
    return [persona for persona in matrix.team_personas() if matrix.cell(persona, USE_STUDIO) is Cell.ALLOW]


def studio_teams(config: OrgConfig, account: Account) -> list[Team]:
    """Teams of the account that have the ``studio`` feature."""
    return [team for team in config.teams_in(account) if Feature.STUDIO in team.features]


def team_boundary_arn(config: OrgConfig, account: Account, team: Team) -> str:
    """The team's permission boundary in ``account`` (created by the team stack)."""
    return f"arn:aws:iam::{account.id}:policy/{boundary_name(config.organisation.name, team.name)}"


def user_profile_name(team: Team, persona: str) -> str:
    return f"{team.name}-{persona}"


class StudioStack(Stack):
    """The account's Studio domain, shared by its Studio teams, and their user profiles."""

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, account: Account,
                 network: PrivateNetwork, package_mirror: PackageMirrorRef, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        teams = studio_teams(config, account)
        if not teams:
            raise ValueError(f"account {account.name} has no team with the studio feature")
        org = config.organisation
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
                self, f"{team.name}-boundary", team_boundary_arn(config, account, team))
            for persona in studio_personas():
                self.profiles[(team.name, persona)] = self.domain.add_user_profile(
                    f"{team.name}-{persona}", profile_name=user_profile_name(team, persona), team=team.name,
                    persona=persona, permissions_boundary=boundary)
