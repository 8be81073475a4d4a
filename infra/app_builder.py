"""Build the CDK app from a validated config: the only place that decides which stacks exist."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Environment, Stack, Tags

from infra.catalog_stack import CatalogBuilder
from infra.compliance.checks import add_compliance_checks
from infra.config import OrgConfig, Team
from infra.genai import account_uses_bedrock, has_genai_stack, hosts_endpoints
from infra.genai_stack import BedrockLoggingStack, FmEndpointsStack, GenAiStack
from infra.package_mirror_stack import PackageMirrorStack, package_mirror_account
from infra.platform_stack import PlatformStack
from infra.studio_stack import StudioStack, studio_teams
from infra.team_stack import TeamStack


CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


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
    for account in config.accounts:
        env = Environment(account=account.id, region=org.region)
        team_stacks = {}
        guardrails = {}
        platform = PlatformStack(
            app, stack_name(config, account.name, "platform"), config=config, account=account, env=env,
            description=f"FMOps Foundation {org.name}: internet-free network of account {account.name}",
        )
        for team in config.teams_in(account):
            team_stacks[team.name] = _team_tagged(team, TeamStack(
                app, stack_name(config, account.name, team.name), config=config, account=account, team=team,
                network=platform.network, env=env,
                description=f"FMOps Foundation {org.name}: team {team.name} in account {account.name}",
            ))
            if has_genai_stack(team):
                genai = _team_tagged(team, GenAiStack(
                    app, stack_name(config, account.name, team.name, "genai"), config=config, account=account,
                    team=team, network=platform.network, env=env,
                    description=f"FMOps Foundation {org.name}: GenAI runtime of team {team.name} in {account.name}",
                ))
                guardrails[team.name] = genai.guardrail
                genai.add_stack_dependency(team_stacks[team.name])  # attaches a policy to its persona roles
                if hosts_endpoints(team):
                    _team_tagged(team, FmEndpointsStack(
                        app, stack_name(config, account.name, team.name, "endpoints"), config=config, team=team,
                        genai=genai, network=platform.network, env=env,
                        description=f"FMOps Foundation {org.name}: FM endpoints of team {team.name} in {account.name}",
                    )).add_stack_dependency(team_stacks[team.name])  # the team's permission boundary
        catalogs.add(account, network=platform.network, team_stacks=team_stacks, guardrails=guardrails,
                     data_keys={name: stack.data_key.key.key_arn for name, stack in team_stacks.items()})
        if teams := studio_teams(config, account):
            studio = StudioStack(
                app, stack_name(config, account.name, "studio"), config=config, account=account,
                network=platform.network, package_mirror=mirror.mirror, env=env,
                description=f"FMOps Foundation {org.name}: SageMaker Studio (VpcOnly) of account {account.name}",
            )
            for dependency in [mirror, *(team_stacks[team.name] for team in teams)]:
                studio.add_stack_dependency(dependency)
        if account_uses_bedrock(config, account):
            BedrockLoggingStack(
                app, stack_name(config, account.name, "bedrock-logging"), config=config, account=account,
                network=platform.network, env=env,
                description=f"FMOps Foundation {org.name}: Bedrock model invocation logging of {account.name}",
            )
    # Cost allocation: platform stacks bill to the organisation's cost centre, team stacks
    # (tagged above, closer to their resources) to the team's; CostAllocationTagChecks enforces it.
    for key, value in {**org.tags, "fmops:organisation": org.name, "fmops:cost-centre": org.cost_centre}.items():
        Tags.of(app).add(key, value)
    if checks:
        add_compliance_checks(app)
    return app
