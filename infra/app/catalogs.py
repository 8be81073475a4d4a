"""The catalog step of the builder: every account's catalog stacks, and the shared portfolios."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Environment, Stack
from constructs import Construct

from fmops_constructs.guardrail import Guardrail
from fmops_constructs.private_network import PrivateNetwork
from infra.app.aspects import tag_team
from infra.config import Team
from infra.plan import AccountPlan, OrgPlan, TeamPlan
from infra.stacks.catalog import (LABELING_TEMPLATE, CatalogStack, GovernanceCatalogStack, LabelingWorkforceStack,
                                  check_platform_values, offered_templates)
from infra.stacks.catalog.projects import ProjectsStack


class CatalogBuilder:
    """Adds the catalog stacks of each account to the app (:meth:`add`, once per account); the
    governance account's shared portfolios are built on first use."""

    def __init__(self, app: Construct, plan: OrgPlan, team_scoped: Callable[[Team, Stack], Stack]) -> None:
        """:param team_scoped: applies the team-scope rules (tags, boundary) to a team's stack."""
        self._app = app
        self._plan = plan
        self._team_scoped = team_scoped
        self._hubs: dict[str, GovernanceCatalogStack] = {}

    def _env(self, account_id: str) -> Environment:
        return Environment(account=account_id, region=self._plan.facts.region)

    def hub(self, team: TeamPlan) -> GovernanceCatalogStack:
        """The team's portfolio in the governance account (share_from_governance)."""
        if team.name not in self._hubs:
            facts = self._plan.facts
            governance = facts.governance_account
            share_with = [self._plan.account(name).account.id for name in team.team.accounts.by_stage().values()]
            self._hubs[team.name] = tag_team(team.team, GovernanceCatalogStack(
                self._app, facts.stack_name(governance.name, team.name, "catalog"),  # type: ignore[union-attr]
                plan=team, share_with=share_with, env=self._env(governance.id),  # type: ignore[union-attr]
                description=f"FMOps Foundation {facts.name}: project templates of team {team.name}, "
                            "shared with its accounts"))
        return self._hubs[team.name]

    def add(self, account: AccountPlan, *, network: PrivateNetwork, team_stacks: dict[str, Stack],
            data_keys: dict[str, str], guardrails: dict[str, Guardrail | None],
            scope: Construct | None = None) -> dict[str, CatalogStack]:
        """The catalog stacks of ``account``: one per team with feature service-catalog (returned by
        team name), and the labeling workforce when one of them labels data here.

        :param scope: where the account's stacks go (its Stage in mode organisation); they are then
            given their construct id as stack name, which a Stage would otherwise prefix. The
            governance account's shared portfolios always go in the app (never in a stage).
        """
        facts = self._plan.facts
        parent = scope if scope is not None else self._app

        def named(name: str) -> dict[str, str]:
            return {"construct_id": name, **({"stack_name": name} if scope is not None else {})}

        teams = account.catalog_teams
        labelers = [t.name for t in teams
                    if any(e.id == LABELING_TEMPLATE for e in offered_templates(t.team, t.stage))]
        labeling = None
        if labelers:
            labeling = LabelingWorkforceStack(
                parent, **named(account.stack_name("labeling")), plan=account, network=network,
                env=self._env(account.account.id),
                description=f"FMOps Foundation {facts.name}: Ground Truth private workforce of {account.name}")
        created: dict[str, CatalogStack] = {}
        for team in teams:
            shared = self.hub(team).portfolio.resource_types() if team.team.catalog.share_from_governance else None
            stack = self._team_scoped(team.team, CatalogStack(
                parent, **named(team.stack_name("catalog")), plan=team, network=network,
                data_key_arn=data_keys[team.name], guardrail=guardrails.get(team.name),
                labeling=labeling if team.name in labelers else None, shared_resource_types=shared,
                env=self._env(account.account.id),
                description=f"FMOps Foundation {facts.name}: project templates of team {team.name} in {account.name}"))
            stack.add_stack_dependency(team_stacks[team.name])  # boundary and launcher roles, referenced by name
            if shared is not None:
                offered = {entry.id for entry in offered_templates(team.team, team.stage)}
                check_platform_values([s for template_id, s in self.hub(team).portfolio.product_stacks.items()
                                       if template_id in offered], stack.platform.available, account.account)
            created[team.name] = stack
            if stack.declared_projects:
                projects = self._team_scoped(team.team, ProjectsStack(
                    parent, **named(team.stack_name("projects")), plan=team, env=self._env(account.account.id),
                    description=f"FMOps Foundation {facts.name}: SageMaker projects of team {team.name} declared "
                                f"in the config, in {account.name}"))
                projects.add_stack_dependency(stack)  # reads the catalog stack's parameters (dynamic references)
        return created
