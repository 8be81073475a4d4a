"""Multi-account delivery (mode organisation): which pipeline deploys which workload account.

In mode organisation the stacks of each workload account are one CDK ``Stage``, deployed by a
self-mutating CDK pipeline that runs in the governance account (``infra/stacks/pipeline.py``).
There is one pipeline per team, not one for the whole organisation: a CodePipeline stage takes at
most 50 actions, and every stack of an account needs two (create and execute its change set),
so an organisation-wide pipeline stops scaling long before 100 teams; one pipeline per team also
lets a team's approvals and failures stay its own.

A workload account belongs to exactly one pipeline. Teams that share a workload account are
therefore delivered together: the teams connected through shared accounts (connected components)
form one pipeline, named after the first of them in config order. Workload accounts that no team
uses (prepared for a team that is not onboarded yet, or left behind by a removed team) still get
their platform stack (VPC, endpoints, platform personas); they are delivered by
``<org>-platform-pipeline``, since ``platform`` is a reserved team name.

Each pipeline deploys its dev accounts, then, after a manual approval, its preprod accounts,
then, after another manual approval, its prod accounts.

Each pipeline's Build step synthesizes only what it deploys: ``cdk synth -c pipeline_group=<group>``
(:data:`PIPELINE_GROUP_CONTEXT`, :func:`synth_command`; what the scoped synth builds:
``infra/app/builder.py``), so a pipeline's synth does not grow with the number of teams.

The governance account's own stacks (its platform stack, the package mirror, the shared
portfolios, the delivery bucket and the pipelines themselves) are not in any stage: the platform
team deploys them once with ``cdk deploy`` (docs/delivery.md, ``fmops bootstrap-commands``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra import naming
from infra.config import RESERVED_TEAM_NAME, Account, Mode, OrgConfig, Stage, Team


PIPELINE_GROUP_CONTEXT = "pipeline_group"
"""The CDK context key of the scoped synth: ``cdk synth -c pipeline_group=<group name>``."""


BUILD_COMPUTE_TYPE = "SMALL"
"""CodeBuild compute type (BUILD_GENERAL1_SMALL) of every project of a pipeline, the Build step (the scoped
synth) included."""
BUILD_MEMORY_MIB = 3 * 1024
"""Memory of that compute type (AWS documents 3 GB, 2 vCPUs). ``make bench-scale`` measures the peak
memory of one pipeline's scoped synth (the Build step's ``cdk synth``, CLI included) at 1, 10 and
100 teams against it: about 0.6 GiB at every size (README, Benchmarks), so SMALL fits with room
and does not need to grow with the organisation."""


class PipelineGroupError(ValueError):
    """The ``pipeline_group`` context names no pipeline group of the config (one line, for exit 2)."""


@dataclass(frozen=True)
class PipelineGroup:
    """The workload accounts one pipeline deploys, by stage, in config order."""

    name: str
    teams: tuple[Team, ...]
    accounts: dict[Stage, list[Account]] = field(default_factory=dict)

    @property
    def all_accounts(self) -> list[Account]:
        return [account for stage in Stage for account in self.accounts.get(stage, [])]


def synth_command(config_path: str, group: PipelineGroup) -> str:
    """The Build step's command: the scoped synth of the group, from the config it was deployed with."""
    return f"npx --no-install cdk synth --quiet -c config={config_path} -c {PIPELINE_GROUP_CONTEXT}={group.name}"


def select_group(groups: tuple[PipelineGroup, ...], name: str | None) -> PipelineGroup | None:
    """The group a scoped synth builds; None (no name): the whole organisation."""
    if name is None:
        return None
    for group in groups:
        if group.name == name:
            return group
    if not groups:
        raise PipelineGroupError(f"context {PIPELINE_GROUP_CONTEXT}: {name!r}: this config has no delivery pipelines "
                                 "(mode organisation only); synthesize without it")
    raise PipelineGroupError(f"context {PIPELINE_GROUP_CONTEXT}: {name!r} is not a pipeline group of this config; "
                             f"choose one of: {', '.join(group.name for group in groups)}")


def governance_account(config: OrgConfig) -> Account:
    return next(a for a in config.accounts if a.role == "governance")


def delivers_with_pipelines(config: OrgConfig) -> bool:
    """Mode organisation always delivers the workload accounts with pipelines."""
    return config.organisation.mode is Mode.ORGANISATION


def pipeline_groups(config: OrgConfig) -> list[PipelineGroup]:
    """The pipelines of the organisation (none in single-account mode), see the module docstring."""
    if not delivers_with_pipelines(config):
        return []
    parent = list(range(len(config.teams)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_user: dict[str, int] = {}
    for index, team in enumerate(config.teams):
        for name in team.accounts.by_stage().values():
            if name in first_user:
                a, b = root(first_user[name]), root(index)
                parent[max(a, b)] = min(a, b)  # the group keeps its first team's name
            else:
                first_user[name] = index
    members: dict[int, list[Team]] = {}
    for index, team in enumerate(config.teams):
        members.setdefault(root(index), []).append(team)
    group_of_account = {name: root(index) for name, index in first_user.items()}
    groups = []
    for leader, teams in members.items():
        accounts = [a for a in config.accounts if group_of_account.get(a.name) == leader]
        groups.append(_group(config.teams[leader].name, teams, accounts))
    unused = [a for a in config.accounts if a.role == "workload" and a.name not in first_user]
    if unused:
        groups.append(_group(RESERVED_TEAM_NAME, [], unused))
    return groups


def _group(name: str, teams: list[Team], accounts: list[Account]) -> PipelineGroup:
    by_stage: dict[Stage, list[Account]] = {}
    for stage in Stage:
        chosen = [a for a in accounts if a.stage is stage]
        if chosen:
            by_stage[stage] = chosen
    return PipelineGroup(name=name, teams=tuple(teams), accounts=by_stage)


def pipeline_stack_name(config: OrgConfig, group: PipelineGroup) -> str:
    return naming.stack_name(config.organisation.name, group.name, "pipeline")


def delivery_stack_name(config: OrgConfig) -> str:
    return naming.stack_name(config.organisation.name, governance_account(config).name, "delivery")


def delivery_bucket_name(config: OrgConfig) -> str:
    """The bucket that the s3 source kind reads the repository zip from."""
    org = config.organisation
    return naming.delivery_bucket_name(org.name, governance_account(config).id, org.region)
