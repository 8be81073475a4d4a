"""Cost allocation tags, the one cross-cutting rule the builder applies itself.

Platform stacks bill to the organisation's cost centre, team stacks (tagged closer to their
resources, so they win) to the team's; ``CostAllocationTagChecks`` (infra/compliance/cost_tags.py)
fails the synth on a taggable resource without them. CDK applies tags as Aspects; Aspects do not
cross into a Stage, so each stage is tagged as well as the app.
"""

from __future__ import annotations

from typing import TypeVar

from aws_cdk import Tags
from constructs import IConstruct

from infra import naming
from infra.config import Organisation, Team

S = TypeVar("S", bound=IConstruct)


def tag_team(team: Team, scope: S) -> S:
    """Team-scoped stacks carry the team and its cost centre on every taggable resource."""
    Tags.of(scope).add(naming.TAG_TEAM, team.name)
    Tags.of(scope).add(naming.TAG_COST_CENTRE, team.cost_centre)
    return scope


def organisation_tags(organisation: Organisation) -> dict[str, str]:
    """The config's tags, the organisation and its cost centre: on every resource of the app."""
    return {**organisation.tags, naming.TAG_ORGANISATION: organisation.name,
            naming.TAG_COST_CENTRE: organisation.cost_centre}


def tag_organisation(organisation: Organisation, *scopes: IConstruct) -> None:
    for scope in scopes:
        for key, value in organisation_tags(organisation).items():
            Tags.of(scope).add(key, value)
