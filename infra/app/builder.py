"""Build the CDK app from a validated config: the only place that decides which stacks exist."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Environment, Stack, Stage, Tags

from infra import REPO_ROOT
from infra.stacks.catalog import CatalogBuilder
from infra.compliance.checks import add_compliance_checks
from infra.config import OrgConfig, SourceKind, Team
from infra.plan.delivery import (
    delivers_with_pipelines,
    delivery_stack_name,
    governance_account,
    pipeline_groups,
    pipeline_stack_name,
)
from infra.plan.genai import account_uses_bedrock, has_genai_stack, hosts_endpoints
from infra.stacks.genai import BedrockLoggingStack, FmEndpointsStack, GenAiStack
from infra.stacks.package_mirror import PackageMirrorStack, package_mirror_account
from infra.stacks.pipeline import DeliverySourceStack, PipelineStack
from infra.stacks.platform import PlatformStack
from infra.stacks.studio import StudioStack, studio_teams
from infra.stacks.team import TeamStack


CDK_JSON = REPO_ROOT / "cdk.json"


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


def _team_tagged(team: Team, stack: Stack) -> Stack:
    """Team-scoped stacks carry the team and its cost centre on every taggable resource."""
    Tags.of(stack).add("fmops:team", team.name)
    Tags.of(stack).add("fmops:cost-centre", team.cost_centre)
    return stack


def stack_name(config: OrgConfig, *parts: str) -> str:
    return "-".join((config.organisation.name, *parts))


def _named(config: OrgConfig, *parts: str) -> dict[str, str]:
    """Construct id and stack name of a stack: the same string. Inside a Stage, CDK's default
    name would be prefixed with the stage's name, so it is always given."""
    name = stack_name(config, *parts)
    return {"construct_id": name, "stack_name": name}


def _repository_path(config_path: str | None) -> str:
    """The config the pipelines synthesize with, relative to the repository (``-c config=``)."""
    if not config_path:
        return "config/default.yaml"
    path = Path(config_path)
    if path.is_absolute() and path.resolve().is_relative_to(CDK_JSON.parent):
        return path.resolve().relative_to(CDK_JSON.parent).as_posix()
    return path.as_posix()


def add_pipelines(config: OrgConfig, app: App, *, stages: dict[str, Stage], platforms: dict[str, PlatformStack],
                  mirror: PackageMirrorStack) -> list[PipelineStack]:
    """The delivery pipelines (mode organisation) in the governance account: one per team, or per
    group of teams sharing accounts (infra/plan/delivery.py), and the delivery bucket for source s3."""
    org = config.organisation
    governance = governance_account(config)
    env = Environment(account=governance.id, region=org.region)
    platform = platforms[governance.name]
    source_key = None
    if org.delivery.source.kind is SourceKind.S3:
        delivery = DeliverySourceStack(
            app, delivery_stack_name(config), config=config, network=platform.network, env=env,
            description=f"FMOps Foundation {org.name}: source bucket of the delivery pipelines")
        source_key = delivery.key
    created = []
    for group in pipeline_groups(config):
        stack = PipelineStack(
            app, pipeline_stack_name(config, group), config=config, group=group, stages=stages,
            network=platform.network, log_key=platform.log_key, mirror=mirror.mirror, source_key=source_key,
            config_path=_repository_path(app.node.try_get_context("config")), env=env,
            description=f"FMOps Foundation {org.name}: delivery pipeline of "
                        f"{', '.join(t.name for t in group.teams) or 'the workload accounts without a team'}")
        if group.teams:
            _team_tagged(group.teams[0], stack)
        created.append(stack)
    return created


def build_app(config: OrgConfig, app: App | None = None, *, checks: bool = True) -> App:
    """Add every stack of the organisation to ``app`` (a new App if none) and the checks."""
    app = app or new_app()
    org = config.organisation
    mirror_account = package_mirror_account(config)
    mirror = PackageMirrorStack(
        app, stack_name(config, mirror_account.name, "packages"), config=config,
        env=Environment(account=mirror_account.id, region=org.region),
        description=f"FMOps Foundation {org.name}: CodeArtifact PyPI and ECR image mirror of the organisation",
    )
    catalogs = CatalogBuilder(app, config)
    # Mode organisation: each workload account's stacks form one Stage, deployed by a pipeline.
    stages = {account.name: Stage(app, account.name, env=Environment(account=account.id, region=org.region))
              for account in config.accounts if delivers_with_pipelines(config) and account.role == "workload"}
    platforms: dict[str, PlatformStack] = {}
    for account in config.accounts:
        env = Environment(account=account.id, region=org.region)
        scope = stages.get(account.name, app)  # a workload account's stage, or the app
        team_stacks = {}
        guardrails = {}
        genai_stacks: dict[str, GenAiStack] = {}
        platform = PlatformStack(
            scope, **_named(config, account.name, "platform"),
            config=config, account=account, env=env,
            description=f"FMOps Foundation {org.name}: internet-free network of account {account.name}",
        )
        for team in config.teams_in(account):
            team_stacks[team.name] = _team_tagged(team, TeamStack(
                scope, **_named(config, account.name, team.name),
                config=config, account=account, team=team,
                network=platform.network, env=env,
                description=f"FMOps Foundation {org.name}: team {team.name} in account {account.name}",
            ))
            if has_genai_stack(team):
                genai = _team_tagged(team, GenAiStack(
                    scope, **_named(config, account.name, team.name, "genai"),
                    config=config, account=account,
                    team=team, network=platform.network, env=env,
                    description=f"FMOps Foundation {org.name}: GenAI runtime of team {team.name} in {account.name}",
                ))
                guardrails[team.name] = genai.guardrail
                genai_stacks[team.name] = genai
                genai.add_stack_dependency(team_stacks[team.name])  # attaches a policy to its persona roles
                if hosts_endpoints(team):
                    _team_tagged(team, FmEndpointsStack(
                        scope, **_named(config, account.name, team.name, "endpoints"),
                        config=config, team=team,
                        genai=genai, network=platform.network, env=env,
                        description=f"FMOps Foundation {org.name}: FM endpoints of team {team.name} in {account.name}",
                    )).add_stack_dependency(team_stacks[team.name])  # the team's permission boundary
        platforms[account.name] = platform
        catalog_stacks = {stack.stack_name: stack for stack in catalogs.add(
                     account, network=platform.network, team_stacks=team_stacks, guardrails=guardrails,
                     data_keys={name: stack.data_key.key_arn for name, stack in team_stacks.items()},
                     scope=None if scope is app else scope)}
        if teams := studio_teams(config, account):
            studio = StudioStack(
                scope, **_named(config, account.name, "studio"),
                config=config, account=account,
                network=platform.network, package_mirror=mirror.mirror, env=env,
                description=f"FMOps Foundation {org.name}: SageMaker Studio (VpcOnly) of account {account.name}",
            )
            # The mirror is referenced by name; in mode organisation it is in another account and
            # deployed beforehand by the platform team (no dependency can cross a pipeline stage).
            for dependency in [*([mirror] if scope is app else []), *(team_stacks[team.name] for team in teams)]:
                studio.add_stack_dependency(dependency)
            for team in teams:  # the GenAI stack attaches its guarded-invoke policy to Studio roles
                if team.name in genai_stacks:
                    genai_stacks[team.name].add_stack_dependency(studio)
                # The catalog stack attaches its end-user policy to the launchers' Studio roles.
                if catalog := catalog_stacks.get(stack_name(config, account.name, team.name, "catalog")):
                    catalog.add_stack_dependency(studio)
        if account_uses_bedrock(config, account):
            BedrockLoggingStack(
                scope, **_named(config, account.name, "bedrock-logging"),
                config=config, account=account,
                network=platform.network, env=env,
                description=f"FMOps Foundation {org.name}: Bedrock model invocation logging of {account.name}",
            )
    # Cost allocation: platform stacks bill to the organisation's cost centre, team stacks
    # (tagged above, closer to their resources) to the team's; CostAllocationTagChecks enforces it.
    # Aspects (tags included) do not cross into a Stage, so each stage is tagged too, before a
    # pipeline synthesizes it.
    for tagged in (app, *stages.values()):
        for key, value in {**org.tags, "fmops:organisation": org.name, "fmops:cost-centre": org.cost_centre}.items():
            Tags.of(tagged).add(key, value)
    if stages:
        add_pipelines(config, app, stages=stages, platforms=platforms, mirror=mirror)
    if checks:
        add_compliance_checks(app)
    return app
