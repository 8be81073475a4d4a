"""Build the CDK app from a validated config: the only place that decides which stacks exist.

``build_app`` derives the plan (``infra.plan.build_plan``) and composes the stacks from it in
small, named steps: the package mirror, then per account its platform, its teams (team, GenAI and
endpoint stacks), its catalogs, its Studio domain and its Bedrock logging, then the cost tags, the
delivery pipelines (mode organisation) and the compliance checks. Each stack gets the part of the
plan it needs, never the whole config.

Scoped synth (mode organisation): with ``-c pipeline_group=<group>`` (``infra.plan.delivery.PIPELINE_GROUP_CONTEXT``)
the app builds only what one delivery pipeline deploys and needs, from the same config: the
group's workload accounts (their stages), the governance platform stack the pipeline stack
references, the delivery bucket stack (source kind s3), the governance portfolios of the group's
teams (their catalog stacks read them) and the group's pipeline stack. Every stack it builds is
built exactly as in the whole-organisation synth, so its template is the same
(``tests/test_scoped_synth.py``); each pipeline's Build step runs this synth, so a pipeline's synth
does not grow with the number of teams.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from aws_cdk import App, Environment, Stack, Stage

from infra import REPO_ROOT
from infra.app.catalogs import CatalogBuilder
from infra.app.aspects import TeamBoundaryOnEveryRole, apply_once, tag_organisation, tag_team
from infra.compliance.checks import add_compliance_checks
from infra.compliance.internet_free.organisation import Organisation
from infra.config import OrgConfig, SourceKind, Team
from infra.plan import AccountPlan, OrgPlan, build_plan
from infra.plan.delivery import PIPELINE_GROUP_CONTEXT, PipelineGroup, PipelineGroupError
from infra.stacks.bedrock_logging import BedrockLoggingStack
from infra.stacks.catalog import CatalogStack
from infra.stacks.data_lake import DataLakeStack, LakeFormationStack
from infra.stacks.fm_endpoints import FmEndpointsStack
from infra.stacks.genai import GenAiStack
from infra.stacks.package_mirror import PackageMirrorStack
from infra.stacks.pipeline import DeliverySourceStack, PipelineStack
from infra.stacks.platform import PlatformStack
from infra.stacks.studio import StudioStack
from infra.stacks.team import TeamStack

CDK_JSON = REPO_ROOT / "cdk.json"
S = TypeVar("S", bound=Stack)


# CDK's built-in template validation is off: cfn-lint checks the same CloudFormation schemas with
# more rules after synth (`fmops cfn-lint`, run by `make synth` and `make test`), where the
# built-in plugin cost about half of every synth. The compliance gates (three cdk-nag packs,
# the internet-free pack, cost tags) run at every synth.
APP_PROPS = {"builtin_cloud_formation_validation": False}

def new_app(outdir: str | None = None) -> App:
    """An App with cdk.json's feature flags, for tests and benchmarks that synthesize in-process
    (the CDK CLI passes the same context when it runs app.py)."""
    context = json.loads(CDK_JSON.read_text())["context"]
    return App(context=context, outdir=outdir, **APP_PROPS)


def _repository_path(config_path: str | None) -> str:
    """The config the pipelines synthesize with, relative to the repository (``-c config=``)."""
    if not config_path:
        return "config/default.yaml"
    path = Path(config_path)
    if path.is_absolute() and path.resolve().is_relative_to(REPO_ROOT):
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    return path.as_posix()


@dataclass
class _AccountStacks:
    """What the builder made for one account, for the steps that follow."""

    platform: PlatformStack
    teams: dict[str, TeamStack] = field(default_factory=dict)
    genai: dict[str, GenAiStack] = field(default_factory=dict)
    catalogs: dict[str, CatalogStack] = field(default_factory=dict)


class OrganisationBuilder:
    """Composes the stacks of one organisation from its plan (see the module docstring)."""

    def __init__(self, app: App, plan: OrgPlan, group: PipelineGroup | None = None) -> None:
        """:param group: build only this pipeline group's stacks (scoped synth, module docstring)."""
        self.app = app
        self.plan = plan
        self.facts = plan.facts
        self.group = group
        in_scope = None if group is None else {account.name for account in group.all_accounts}
        self.accounts = tuple(a for a in plan.accounts if in_scope is None or a.name in in_scope)
        # Mode organisation: each workload account's stacks form one Stage, deployed by a pipeline.
        self.stages = {account.name: Stage(app, account.name, env=self._env(account.account.id))
                       for account in self.accounts if account.in_stage}
        self.platforms: dict[str, PlatformStack] = {}
        self.team_stacks: list[tuple[str, Stack]] = []
        """(team, stack) of every team-scoped stack in a workload account, for the boundary rule."""
        self.catalogs = CatalogBuilder(app, plan, self.team_scoped)

    def _env(self, account_id: str) -> Environment:
        return Environment(account=account_id, region=self.facts.region)

    def _named(self, name: str) -> dict[str, str]:
        """Construct id and stack name of a stack: the same string. Inside a Stage, CDK's default
        name would be prefixed with the stage's name, so it is always given."""
        return {"construct_id": name, "stack_name": name}

    def team_scoped(self, team: Team, stack: S) -> S:
        """A team's stack in one of its workload accounts: the team's tags now, and its boundary on
        every role once every stack exists (:meth:`bound_team_roles`)."""
        self.team_stacks.append((team.name, stack))
        return tag_team(team, stack)

    def bound_team_roles(self) -> None:
        """The team's permission boundary on every role of its stacks (infra/app/aspects.py)."""
        for team, stack in self.team_stacks:
            apply_once(TeamBoundaryOnEveryRole(self.facts.name, team), stack)

    def _description(self, text: str) -> str:
        return f"FMOps Foundation {self.facts.name}: {text}"

    # -- steps ------------------------------------------------------------------------------------
    def build(self, *, config_path: str | None, checks: bool, control_tower: bool = True) -> None:
        if self.group is None:
            self.package_mirror()
        else:  # scoped: the pipeline stack references the governance network only
            governance = self.plan.account(self.facts.governance_account.name)  # type: ignore[union-attr]
            self.platforms[governance.name] = self.platform(governance, self.app)
        for account in self.accounts:
            self.account(account)
        self.bound_team_roles()
        tag_organisation(self.facts.organisation, self.app, *self.stages.values())
        if self.stages:
            self.pipelines(config_path)
        if checks:
            add_compliance_checks(self.app, Organisation(frozenset(self.facts.account_ids),
                                                         self.facts.organisation.aws_organization_id),
                                  control_tower=control_tower)

    def package_mirror(self) -> PackageMirrorStack:
        facts = self.facts
        organization = facts.organisation.aws_organization_id
        self.mirror = PackageMirrorStack(
            self.app, facts.stack_name(facts.mirror_account.name, "packages"),
            mirror=facts.mirror, organization_id=organization, consumer_account_ids=facts.account_ids,
            image_repositories=self.plan.mirrored_image_repositories,
            npm=not facts.single_account,  # npm for the delivery pipelines' CodeBuild projects
            env=self._env(facts.mirror_account.id),
            description=self._description("CodeArtifact PyPI and ECR image mirror of the organisation"))
        return self.mirror

    def platform(self, plan: AccountPlan, scope: App | Stage) -> PlatformStack:
        return PlatformStack(
            scope, **self._named(plan.stack_name("platform")), plan=plan, scp_model_arns=self.plan.scp_model_arns,
            env=self._env(plan.account.id), description=self._description(f"internet-free network of account {plan.name}"))

    def account(self, plan: AccountPlan) -> None:
        scope = self.stages.get(plan.name, self.app)  # a workload account's stage, or the app
        env = self._env(plan.account.id)
        platform = self.platforms[plan.name] = self.platform(plan, scope)
        made = _AccountStacks(platform)
        self.teams(plan, scope, made)
        made.catalogs = self.catalogs.add(
            plan, network=platform.network, team_stacks=dict(made.teams),
            guardrails={name: stack.guardrail for name, stack in made.genai.items()},
            data_keys={name: stack.data_key.key_arn for name, stack in made.teams.items()},
            scope=None if scope is self.app else scope)
        if plan.studio_teams:
            self.studio(plan, scope, made)
        if plan.uses_bedrock:
            BedrockLoggingStack(
                scope, **self._named(plan.stack_name("bedrock-logging")), plan=plan, network=platform.network,
                env=env, description=self._description(f"Bedrock model invocation logging of {plan.name}"))

    def teams(self, plan: AccountPlan, scope: App | Stage, made: _AccountStacks) -> None:
        """Per team of the account: its team stack, GenAI stack and FM endpoints stack."""
        env, network = self._env(plan.account.id), made.platform.network
        lake_formation = LakeFormationStack(
            scope, **self._named(plan.stack_name("lake-formation")), plan=plan, env=env,
            description=self._description(f"Lake Formation settings and LF-tags of {plan.name}")) \
            if plan.lake_tags else None
        for team in plan.teams:
            made.teams[team.name] = self.team_scoped(team.team, TeamStack(
                scope, **self._named(team.stack_name()), plan=team, network=network, env=env,
                description=self._description(f"team {team.name} in account {plan.name}")))
            if team.has_data_lake and lake_formation is not None:
                lake = self.team_scoped(team.team, DataLakeStack(
                    scope, **self._named(team.stack_name("data-lake")), plan=team, network=network,
                    data_key=made.teams[team.name].data_key, env=env,
                    description=self._description(f"data lake of team {team.name} in {plan.name}")))
                lake.add_stack_dependency(lake_formation)  # the LF-tags and the deploying administrator
                lake.add_stack_dependency(made.teams[team.name])  # the persona roles it grants, the boundary
            if not team.has_genai_stack:
                continue
            genai = self.team_scoped(team.team, GenAiStack(
                scope, **self._named(team.stack_name("genai")), plan=team, network=network, env=env,
                description=self._description(f"GenAI runtime of team {team.name} in {plan.name}")))
            made.genai[team.name] = genai
            genai.add_stack_dependency(made.teams[team.name])  # attaches a policy to its persona roles
            if team.hosts_endpoints:
                alarms = made.teams[team.name].alarms
                if alarms is None:
                    raise ValueError(f"team {team.name} hosts endpoints without an alarm topic")
                self.team_scoped(team.team, FmEndpointsStack(
                    scope, **self._named(team.stack_name("endpoints")), plan=team, genai=genai, network=network,
                    alarm_topic=alarms.topic,
                    env=env, description=self._description(f"FM endpoints of team {team.name} in {plan.name}"),
                )).add_stack_dependency(made.teams[team.name])  # the team's permission boundary

    def studio(self, plan: AccountPlan, scope: App | Stage, made: _AccountStacks) -> None:
        studio = StudioStack(
            scope, **self._named(plan.stack_name("studio")), plan=plan, network=made.platform.network,
            package_mirror=self.facts.mirror, env=self._env(plan.account.id),
            description=self._description(f"SageMaker Studio (VpcOnly) of account {plan.name}"))
        # The mirror is referenced by name; in mode organisation it is in another account and
        # deployed beforehand by the platform team (no dependency can cross a pipeline stage).
        dependencies: list[Stack] = [self.mirror] if scope is self.app else []  # never scoped (stages only)
        for dependency in [*dependencies, *(made.teams[team.name] for team in plan.studio_teams)]:
            studio.add_stack_dependency(dependency)
        for team in plan.studio_teams:
            if team.name in made.genai:  # the GenAI stack attaches its guarded-invoke policy to Studio roles
                made.genai[team.name].add_stack_dependency(studio)
            if team.name in made.catalogs:  # the catalog stack attaches its end-user policy to them
                made.catalogs[team.name].add_stack_dependency(studio)

    def pipelines(self, config_path: str | None) -> list[PipelineStack]:
        """The delivery pipelines (mode organisation) in the governance account: one per team, or per
        group of teams sharing accounts (infra/plan/delivery.py), and the delivery bucket for source s3."""
        facts = self.facts
        governance = facts.governance_account
        env = self._env(governance.id)  # type: ignore[union-attr]
        platform = self.platforms[governance.name]  # type: ignore[union-attr]
        source_key = None
        if facts.organisation.delivery.source.kind is SourceKind.S3:
            delivery = DeliverySourceStack(
                self.app, facts.stack_name(governance.name, "delivery"), org=facts,  # type: ignore[union-attr]
                network=platform.network, env=env,
                description=self._description("source bucket of the delivery pipelines"))
            source_key = delivery.key
        created = []
        for group in self.plan.pipeline_groups if self.group is None else [self.group]:
            stack = PipelineStack(
                self.app, facts.stack_name(group.name, "pipeline"), org=facts, group=group, stages=self.stages,
                network=platform.network, log_key=platform.log_key, mirror=facts.mirror,
                source_key=source_key, config_path=_repository_path(config_path), env=env,
                description=self._description("delivery pipeline of " + (
                    ", ".join(t.name for t in group.teams) or "the workload accounts without a team")))
            if group.teams:
                tag_team(group.teams[0], stack)
            created.append(stack)
        return created


def build_app(config: OrgConfig, app: App | None = None, *, checks: bool = True,
              pipeline_group: str | None = None, control_tower: bool = True) -> App:
    """Add every stack of the organisation to ``app`` (a new App if none) and the checks; with
    ``pipeline_group`` (default: the app's ``pipeline_group`` context) only that group's
    (scoped synth, module docstring). ``control_tower=False`` leaves the Control Tower rules out of
    the checks (tests only, see :func:`~infra.compliance.checks.add_compliance_checks`). Raises
    :class:`PipelineGroupError` for an unknown group."""
    app = app or new_app()
    plan = build_plan(config)
    group = plan.pipeline_group(pipeline_group or app.node.try_get_context(PIPELINE_GROUP_CONTEXT))
    OrganisationBuilder(app, plan, group).build(config_path=app.node.try_get_context("config"), checks=checks,
                                                control_tower=control_tower)
    return app


__all__ = ["APP_PROPS", "OrganisationBuilder", "PipelineGroupError", "build_app", "new_app"]
