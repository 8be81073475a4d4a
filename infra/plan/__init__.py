"""The plan: every fact the stacks need, derived once from a validated config.

``build_plan(config)`` answers, once, what the stacks used to re-derive from the whole config:
which accounts and teams get which stacks, under which names, with which interface endpoints,
Bedrock models, stage chain and launcher personas. Stacks receive a :class:`TeamPlan`, an
:class:`AccountPlan` or the :class:`OrgFacts` they need, never the whole ``OrgConfig``; the
builder (``infra/app/builder.py``) composes the stacks from the plan.

The plan holds plain values and config sections (``Team``, ``Account``, ``Organisation``):
no CDK construct, so tools and tests can use it without synthesizing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from fmops_constructs.bedrock import BedrockModel
from fmops_constructs.package_mirror import PackageMirrorRef
from infra import naming
from infra.config import Account, Feature, Mode, Organisation, OrgConfig, Stage, Team
from infra.plan import data_lake, endpoints
from infra.plan.data_lake import DataShare
from infra.plan.delivery import PipelineGroup, pipeline_groups, select_group
from infra.plan.genai import (endpoint_instance_type, has_genai_stack, hosting_models, hosts_endpoints,
                              organisation_model_arns, team_bedrock_models, uses_bedrock)
from infra.plan.launchers import launcher_personas, studio_launchers
from infra.plan.package_mirror import mirror_ref, mirrored_image_repositories

BEDROCK_FEATURES = frozenset({Feature.BEDROCK, Feature.BEDROCK_AGENTS})


@dataclass(frozen=True)
class OrgFacts:
    """What any stack may need of the organisation: its settings section and its account ids."""

    organisation: Organisation
    account_ids: tuple[str, ...]
    governance_account: Account | None
    """The account with role governance, if any."""
    mirror_account: Account
    """Where the package and image mirror lives: the governance account, or the only account."""

    @property
    def name(self) -> str:
        return self.organisation.name

    @property
    def region(self) -> str:
        return self.organisation.region

    @property
    def single_account(self) -> bool:
        return self.organisation.mode is Mode.SINGLE_ACCOUNT

    @property
    def mirror(self) -> PackageMirrorRef:
        """The organisation's package and image mirror."""
        return mirror_ref(self.organisation.name, self.organisation.region, self.mirror_account.id)

    def stack_name(self, *parts: str) -> str:
        return naming.stack_name(self.organisation.name, *parts)

    def access_log_bucket(self, account: Account) -> str:
        return naming.access_log_bucket_name(self.organisation.name, account.id, self.organisation.region)


@dataclass(frozen=True)
class TeamPlan:
    """One team in one of its accounts."""

    org: OrgFacts
    team: Team
    account: Account
    stage: Stage | None
    """The stage the account plays for the team; None in single-account mode (every stage)."""
    bedrock_models: tuple[BedrockModel, ...]
    next_account: Account | None
    """Where the team's approved models go next (dev -> preprod -> prod); None at the end or in one account."""
    previous_account: Account | None
    endpoint_instance_types: dict[str, str]
    """Instance type of each of the team's FM endpoints (config override, else the FM catalog's)."""
    hosting_models: dict[str, str]
    """FM catalog models the team may host on SageMaker -> their instance type."""
    shares_out: tuple[DataShare, ...] = ()
    """Declared data-lake grants of this team in this account (feature data-lake)."""
    shares_in: tuple[DataShare, ...] = ()
    """Declared grants of other accounts' teams to this team's data consumers here (cross-account)."""

    @property
    def name(self) -> str:
        return self.team.name

    @property
    def features(self) -> frozenset[Feature]:
        return frozenset(self.team.features)

    @property
    def uses_bedrock(self) -> bool:
        return uses_bedrock(self.team)

    @property
    def hosts_endpoints(self) -> bool:
        return hosts_endpoints(self.team)

    @property
    def has_genai_stack(self) -> bool:
        return has_genai_stack(self.team)

    @property
    def has_studio(self) -> bool:
        return Feature.STUDIO in self.team.features

    @property
    def has_catalog(self) -> bool:
        return Feature.SERVICE_CATALOG in self.team.features

    @property
    def has_data_lake(self) -> bool:
        return self.team.has_data_lake

    @property
    def database_prefix(self) -> str:
        return data_lake.database_prefix(self.team.name)

    @cached_property
    def launcher_personas(self) -> tuple[str, ...]:
        return tuple(launcher_personas(self.team))

    @cached_property
    def studio_launchers(self) -> tuple[str, ...]:
        return tuple(studio_launchers(self.team))

    # -- names ------------------------------------------------------------------------------------
    def stack_name(self, *suffix: str) -> str:
        """``<org>-<account>-<team>[-suffix]``: the team's stacks in this account."""
        return self.org.stack_name(self.account.name, self.team.name, *suffix)

    @property
    def boundary_name(self) -> str:
        return naming.boundary_name(self.org.name, self.team.name)

    @property
    def bucket_name(self) -> str:
        return naming.team_bucket_name(self.org.name, self.team.name, self.account.id, self.org.region)

    def persona_role_name(self, persona: str) -> str:
        return naming.persona_role_name(self.org.name, self.team.name, persona)

    def studio_role_name(self, persona: str) -> str:
        return naming.studio_role_name(self.org.name, self.team.name, persona)


@dataclass(frozen=True)
class AuditPlan:
    """The organisation's audit trail, as one account sees it (``organisation.audit``)."""

    archive_account: Account
    """Where the log archive and the trail live: the governance account, or the only account."""
    archive_bucket: str
    trail_name: str
    organisation_trail: bool
    """Mode organisation: one organisation trail records every account of the organisation."""
    trail: bool
    config_recorder: bool
    recorder_role_name: str
    account_ids: tuple[str, ...]
    """The accounts whose AWS Config recorders deliver into the archive."""
    data_event_buckets: tuple[str, ...]
    """The team data buckets whose object-level calls the trail records (every team, every account)."""
    retention_days: int
    lock_mode: str

    def recorder_role_arns(self, partition: str = "aws") -> list[str]:
        return [naming.role_arn(partition, account, self.recorder_role_name) for account in self.account_ids]


@dataclass(frozen=True)
class AccountPlan:
    """One account: its platform and the teams that use it."""

    org: OrgFacts
    account: Account
    teams: tuple[TeamPlan, ...]
    features: frozenset[Feature]
    """The account's own features and those of every team in it."""
    interface_endpoints: tuple[str, ...]
    runs_delivery: bool
    """The governance account of an organisation runs the delivery pipelines."""
    in_stage: bool
    """Delivered by a pipeline (a CDK Stage): the workload accounts of mode organisation."""
    audit: AuditPlan | None = None
    """The audit trail: the archive and the trail (in :attr:`AuditPlan.archive_account`), the recorder."""
    lake_tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The account's LF-tags and their values (teams with feature data-lake); empty: no data lake."""

    @property
    def hosts_archive(self) -> bool:
        """This account holds the log archive (and the trail, if ``audit.trail``)."""
        audit = self.audit
        return audit is not None and (audit.trail or audit.config_recorder) and audit.archive_account.id == self.account.id

    @property
    def name(self) -> str:
        return self.account.name

    def stack_name(self, *suffix: str) -> str:
        """``<org>-<account>-<suffix>``: the account's shared stacks."""
        return self.org.stack_name(self.account.name, *suffix)

    @property
    def access_log_bucket(self) -> str:
        return self.org.access_log_bucket(self.account)

    @property
    def uses_bedrock(self) -> bool:
        """The VPC has Bedrock endpoints, so the account gets invocation logging."""
        return bool(BEDROCK_FEATURES & self.features)

    @cached_property
    def bedrock_models(self) -> tuple[BedrockModel, ...]:
        """Every model some team of the account may invoke: the runtime endpoint admits only these."""
        return tuple(dict.fromkeys(model for team in self.teams for model in team.bedrock_models))

    @property
    def studio_teams(self) -> tuple[TeamPlan, ...]:
        return tuple(team for team in self.teams if team.has_studio)

    @property
    def catalog_teams(self) -> tuple[TeamPlan, ...]:
        return tuple(team for team in self.teams if team.has_catalog)


@dataclass(frozen=True)
class OrgPlan:
    """The whole organisation, planned."""

    facts: OrgFacts
    accounts: tuple[AccountPlan, ...]
    scp_model_arns: tuple[str, ...]
    """Every Bedrock model ARN any team may invoke, in any account: the SCP allow-list."""
    mirrored_image_repositories: tuple[str, ...]
    """The private ECR repositories that images in the config name in the mirror's registry."""
    pipeline_groups: tuple[PipelineGroup, ...]
    """The delivery pipelines (mode organisation) and the workload accounts each deploys."""

    @property
    def delivers_with_pipelines(self) -> bool:
        """Mode organisation always delivers the workload accounts with pipelines."""
        return self.facts.organisation.mode is Mode.ORGANISATION

    def account(self, name: str) -> AccountPlan:
        return next(a for a in self.accounts if a.account.name == name)

    def pipeline_group(self, name: str | None) -> PipelineGroup | None:
        """The group named by a scoped synth (None: no name, the whole organisation); raises
        ``PipelineGroupError`` with one line if there is none of that name."""
        return select_group(self.pipeline_groups, name)


def _stage_chain(config: OrgConfig, team: Team) -> list[Account]:
    """The team's accounts in stage order (dev, preprod, prod)."""
    return [config.account(name) for _, name in sorted(team.accounts.by_stage().items(),
                                                        key=lambda item: list(Stage).index(item[0]))]


def _team_plan(config: OrgConfig, facts: OrgFacts, team: Team, account: Account,
               models: tuple[BedrockModel, ...], lake_shares: list[tuple[Account, DataShare]] = ()) -> TeamPlan:
    if facts.single_account:
        stage = following = previous = None
    else:
        stage = next(stage for stage, name in team.accounts.by_stage().items() if name == account.name)
        chain = _stage_chain(config, team)
        position = next(i for i, a in enumerate(chain) if a.name == account.name)
        following = chain[position + 1] if position + 1 < len(chain) else None
        previous = chain[position - 1] if position > 0 else None
    endpoints = team.genai.endpoints if team.genai else []
    return TeamPlan(org=facts, team=team, account=account, stage=stage, bedrock_models=models,
                    next_account=following, previous_account=previous,
                    endpoint_instance_types={e.name: endpoint_instance_type(config, e) for e in endpoints},
                    hosting_models=hosting_models(config, team),
                    shares_out=tuple(s for a, s in lake_shares if a.id == account.id and s.producer == team.name),
                    shares_in=tuple(s for _, s in lake_shares if s.cross_account and s.consumer == team.name
                                    and s.consumer_account == account.id))


def _audit_plan(config: OrgConfig, facts: OrgFacts) -> AuditPlan:
    org, archive = config.organisation, facts.mirror_account  # the governance account, or the only one
    return AuditPlan(
        archive_account=archive,
        archive_bucket=naming.log_archive_bucket_name(org.name, archive.id, org.region),
        trail_name=naming.trail_name(org.name), organisation_trail=not facts.single_account,
        trail=org.audit.trail, config_recorder=org.audit.config_recorder,
        recorder_role_name=naming.config_recorder_role_name(org.name), account_ids=facts.account_ids,
        data_event_buckets=tuple(dict.fromkeys(
            naming.team_bucket_name(org.name, team.name, account.id, org.region)
            for team in config.teams for stages in [set(team.accounts.by_stage().values())]
            for account in config.accounts if account.name in stages)),  # teams_in(account), per team: linear
        retention_days=org.audit.retention_days, lock_mode=org.audit.lock_mode)


def build_plan(config: OrgConfig) -> OrgPlan:
    """Derive the plan of a validated config (pure: no CDK, no I/O beyond the FM catalog)."""
    org = config.organisation
    governance = next((a for a in config.accounts if a.role == "governance"), None)
    single = org.mode is Mode.SINGLE_ACCOUNT
    facts = OrgFacts(organisation=org, account_ids=tuple(config.account_ids), governance_account=governance,
                     mirror_account=config.accounts[0] if single else governance)  # type: ignore[arg-type]
    models = {team.name: tuple(team_bedrock_models(config, team)) for team in config.teams}
    audit = _audit_plan(config, facts)
    lake_shares = data_lake.shares(config)
    accounts = []
    for account in config.accounts:
        runs_delivery = org.mode is Mode.ORGANISATION and account.role == "governance"
        features = config.features_of(account)
        accounts.append(AccountPlan(
            org=facts, account=account,
            teams=tuple(_team_plan(config, facts, team, account, models[team.name], lake_shares)
                        for team in config.teams_in(account)),
            lake_tags=tuple((k, tuple(v)) for k, v in data_lake.lake_tag_values(config, account).items()),
            features=features,
            interface_endpoints=tuple(endpoints.interface_endpoints(features, delivery=runs_delivery)),
            runs_delivery=runs_delivery,
            in_stage=org.mode is Mode.ORGANISATION and account.role == "workload",
            audit=audit,
        ))
    return OrgPlan(facts=facts, accounts=tuple(accounts), scp_model_arns=tuple(organisation_model_arns(config)),
                   mirrored_image_repositories=tuple(mirrored_image_repositories(config, facts.mirror)),
                   pipeline_groups=tuple(pipeline_groups(config)))
