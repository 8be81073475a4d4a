"""The cross-cutting rules of the app, as CDK Aspects, each applied once by the builder.

* Cost allocation tags: platform stacks bill to the organisation's cost centre, team stacks
  (tagged closer to their resources, so they win) to the team's; ``CostAllocationTagChecks``
  (infra/compliance/cost_tags.py) fails the synth on a taggable resource without them. CDK's
  ``Tags`` are Aspects; Aspects do not cross into a Stage, so each stage is tagged as well as the app.
* The team's permission boundary on every IAM role of a team's stacks in its workload accounts
  (:class:`TeamBoundaryOnEveryRole`): a role a construct creates without one (an autoscaling role,
  say) gets the team's, so no role of a team escapes the boundary's ceiling and denies.

The boundary Aspect is applied by :func:`apply_once` in one pass over each stack's constructs when
the builder has added every stack, rather than with ``Aspects.of``: CDK calls a Python Aspect back
over jsii for every construct of its scope, and CDK Pipelines synthesizes each stage again, which
cost about 1.5 s of a 15 s synth of the default organisation; the pass costs a fraction of that.
``tests/test_team_boundary.py`` checks the result on every role of every team stack.
"""

from __future__ import annotations

from typing import TypeVar

import jsii
from aws_cdk import IAspect, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from infra import naming
from infra.config import Organisation, Team

S = TypeVar("S", bound=IConstruct)


def tag_team(team: Team, scope: S) -> S:
    """Team-scoped stacks carry the team and its cost centre on every taggable resource."""
    Tags.of(scope).add(naming.TAG_TEAM, team.name)
    Tags.of(scope).add(naming.TAG_COST_CENTRE, team.cost_centre)
    return scope


@jsii.implements(IAspect)
class TeamBoundaryOnEveryRole:
    """Give every ``AWS::IAM::Role`` (L1 ``CfnRole``) without a permissions boundary the team's
    boundary, ``<org>-<team>-boundary`` in the role's own account (created by the team stack, so
    apply this only to stacks that deploy after it in the team's workload accounts). A boundary
    that a construct set is left as it is."""

    def __init__(self, organisation: str, team: str) -> None:
        self._name = naming.boundary_name(organisation, team)

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, iam.CfnRole) and node.permissions_boundary is None:
            stack = Stack.of(node)
            node.permissions_boundary = naming.policy_arn(stack.partition, stack.account, self._name)


def apply_once(aspect: TeamBoundaryOnEveryRole, scope: IConstruct) -> None:
    """Visit every construct below ``scope`` that exists now, once (see the module docstring)."""
    for node in scope.node.find_all():
        aspect.visit(node)


def organisation_tags(organisation: Organisation) -> dict[str, str]:
    """The config's tags, the organisation and its cost centre: on every resource of the app."""
    return {**organisation.tags, naming.TAG_ORGANISATION: organisation.name,
            naming.TAG_COST_CENTRE: organisation.cost_centre}


def tag_organisation(organisation: Organisation, *scopes: IConstruct) -> None:
    for scope in scopes:
        for key, value in organisation_tags(organisation).items():
            Tags.of(scope).add(key, value)
