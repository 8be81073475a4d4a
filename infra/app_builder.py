"""Build the CDK app from a validated config: the only place that decides which stacks exist."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App, Environment, Tags

from infra.compliance.checks import add_compliance_checks
from infra.config import OrgConfig
from infra.platform_stack import PlatformStack
from infra.team_stack import TeamStack


CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def new_app(outdir: str | None = None) -> App:
    """An App with cdk.json's feature flags, for tests and benchmarks that synthesize in-process
    (the CDK CLI passes the same context when it runs app.py)."""
    context = json.loads(CDK_JSON.read_text())["context"]
    return App(context=context, outdir=outdir)


def stack_name(config: OrgConfig, *parts: str) -> str:
    return "-".join((config.organisation.name, *parts))


def build_app(config: OrgConfig, app: App | None = None, *, checks: bool = True) -> App:
    """Add every stack of the organisation to ``app`` (a new App if none) and the checks."""
    app = app or new_app()
    org = config.organisation
    for account in config.accounts:
        env = Environment(account=account.id, region=org.region)
        platform = PlatformStack(
            app, stack_name(config, account.name, "platform"), config=config, account=account, env=env,
            description=f"FMOps Foundation {org.name}: internet-free network of account {account.name}",
        )
        for team in config.teams_in(account):
            TeamStack(
                app, stack_name(config, account.name, team.name), config=config, account=account, team=team,
                network=platform.network, env=env,
                description=f"FMOps Foundation {org.name}: team {team.name} in account {account.name}",
            )
    for key, value in {**org.tags, "fmops:organisation": org.name}.items():
        Tags.of(app).add(key, value)
    if checks:
        add_compliance_checks(app)
    return app
