"""The cross-field checks of a whole config: what one model alone cannot see.

``OrgConfig`` (``organisation.py``) runs :func:`check_config` after its fields are valid. Each
check raises :class:`LocatedError` with the path of the field the user must change, so the
loader reports it on that field's line.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from infra.config.base import Feature, LocatedError, Mode
from infra.config.limits import check_limits
from infra.config.fm_catalog import Availability, Catalog, CatalogError, FoundationModel, UnknownModelError
from infra.config.data_lake import DataLake
from infra.config.team import TeamCatalog

if TYPE_CHECKING:
    from infra.config.genai import GenAi
    from infra.config.organisation import OrgConfig, Organisation
    from infra.config.team import Team


# Team name the platform uses for its own stacks, persona roles, boundary and pipeline.
RESERVED_TEAM_NAME = "platform"

GEOGRAPHY_REGION_PREFIX = {"us": "us-", "eu": "eu-", "apac": "ap-"}

# SageMaker names are at most 63 characters; "<org>-<team>-<endpoint>" gets "-model" for its
# inference component.
MAX_ENDPOINT_NAME = 57


def check_config(config: OrgConfig) -> None:
    """Every cross-field rule, in the order the user should fix them."""
    _unique("accounts", "name", [a.name for a in config.accounts])
    _unique("accounts", "id", [a.id for a in config.accounts])
    _unique("teams", "name", [t.name for t in config.teams])
    _mode(config)
    _networks(config)
    _team_accounts(config)
    _genai(config)
    _catalogs(config)
    _data_lakes(config)
    _alarms(config)
    _delivery(config)
    check_limits(config)


def _catalogs(config: OrgConfig) -> None:
    for index, team in enumerate(config.teams):
        here = ("teams", index, "catalog")
        if team.catalog != TeamCatalog() and Feature.SERVICE_CATALOG not in team.features:
            raise LocatedError(here, f"team {team.name}: catalog settings need feature service-catalog in the "
                               "team's features")
        if team.catalog.share_from_governance and config.organisation.mode is not Mode.ORGANISATION:
            raise LocatedError(here + ("share_from_governance",), f"team {team.name}: share_from_governance needs "
                               "mode organisation (a governance account to share from)")
        if team.catalog.project_path == "project" and team.catalog.share_from_governance:
            raise LocatedError(here + ("project_path",), f"team {team.name}: project_path project launches templates "
                               "from S3 without Service Catalog, share_from_governance shares a Service Catalog "
                               "portfolio: choose one (remove share_from_governance, or project_path: catalog)")
        connection = team.catalog.source.connection_arn
        if connection is not None and connection.split(":")[3] != config.organisation.region:
            raise LocatedError(here + ("source", "connection_arn"), f"team {team.name}: the connection is in "
                               f"{connection.split(':')[3]}; CodePipeline uses connections of its own Region "
                               f"({config.organisation.region})")
    _declared_projects(config)


def _declared_projects(config: OrgConfig) -> None:
    """Each declared project: a template the team is offered in the stage's account, a stage the
    team has, a valid fmops:project tag, a portfolio of the account's own (not shared from the
    governance account: its product ids are not the account's), and a name no other project of
    the account (any team) has."""
    if not any(team.catalog.declared_projects for team in config.teams):
        return
    from infra.config.offers import offered_templates  # the registry (and the CDK): only with declared projects

    single = config.organisation.mode is Mode.SINGLE_ACCOUNT
    names: dict[tuple[str, str], str] = {}
    for index, team in enumerate(config.teams):
        catalog = team.catalog
        stages = team.accounts.by_stage()
        allowed_tags = list(catalog.projects) or [team.name]
        for position, project in enumerate(catalog.declared_projects):
            here = ("teams", index, "catalog", "declared_projects", position)
            if catalog.share_from_governance:
                raise LocatedError(here, f"team {team.name}: declared projects need the portfolio in the workload "
                                   "account (its product ids); remove share_from_governance or the declared project")
            if project.stage not in stages:
                raise LocatedError(here + ("stage",), f"team {team.name} has no {project.stage} account; stages: "
                                   f"{', '.join(str(s) for s in stages)}")
            offered = [e.id for e in offered_templates(team, None if single else project.stage)]
            if project.template not in offered:
                raise LocatedError(here + ("template",), f"template {project.template!r} is not offered to team "
                                   f"{team.name} in its {project.stage} account; offered: {', '.join(offered) or 'none'}")
            if project.project_tag is not None and project.project_tag not in allowed_tags:
                raise LocatedError(here + ("project_tag",), f"project_tag {project.project_tag!r} is not an allowed "
                                   f"fmops:project value of team {team.name}: {', '.join(allowed_tags)} "
                                   "(catalog.projects)")
            if project.project_tag is None and project.name not in allowed_tags and len(allowed_tags) > 1:
                raise LocatedError(here + ("project_tag",), f"project {project.name}: give project_tag, one of "
                                   f"{', '.join(allowed_tags)} (catalog.projects)")
            account = stages[project.stage]
            key = (account, project.name.lower())
            if key in names:
                raise LocatedError(here + ("name",), f"duplicate project name {project.name!r} in account {account} "
                                   f"(also declared by {names[key]}); SageMaker project names are unique per account")
            names[key] = f"team {team.name}"


# The team boundary of a data-lake team (Glue, Athena, Lake Formation and their guards) has room
# for this many Bedrock model ARNs (tests/test_data_lake.py measures it with long names).
MAX_DATA_LAKE_MODEL_ARNS = 6


def _data_lakes(config: OrgConfig) -> None:
    teams = {t.name: t for t in config.teams}
    for index, team in enumerate(config.teams):
        here = ("teams", index, "data_lake")
        if not team.has_data_lake:
            if team.data_lake != DataLake():
                raise LocatedError(here, f"team {team.name}: data_lake settings need feature data-lake in the team's "
                                   "features")
            continue
        genai = team.genai
        arns = len(genai.bedrock_models) * (2 if genai.cross_region_inference else 1) if genai else 0
        if arns > MAX_DATA_LAKE_MODEL_ARNS:
            raise LocatedError(("teams", index, "genai", "bedrock_models"), f"team {team.name}: a team with feature "
                               f"data-lake holds at most {MAX_DATA_LAKE_MODEL_ARNS} Bedrock model ARNs in its permission "
                               f"boundary (IAM's 6,144 characters; a cross-Region model counts twice), this one {arns}: "
                               "remove models or split the data lake into another team")
        domains = team.data_lake.domain_values(team.name)
        for number, grant in enumerate(team.data_lake.grants):
            where = here + ("grants", number)
            for value in grant.domains:
                if value not in domains:
                    raise LocatedError(where + ("domains",), f"team {team.name}: domain {value!r} is not one of the "
                                       f"team's domains ({', '.join(domains)}); add it to data_lake.domains")
            if grant.consumer is None:
                continue
            consumer = teams.get(grant.consumer)
            if consumer is None:
                raise LocatedError(where + ("consumer",), f"team {team.name}: grant to unknown team {grant.consumer!r}; "
                                   f"teams: {', '.join(teams)}")
            if consumer.name == team.name:
                raise LocatedError(where + ("consumer",), f"team {team.name}: a grant to the team itself is not needed "
                                   "(its personas read its tables); remove it")
            if not consumer.has_data_lake:
                raise LocatedError(where + ("consumer",), f"team {team.name}: grant to team {grant.consumer}, which has no "
                                   "feature data-lake (its account needs the catalog settings and endpoints to read "
                                   "shared tables); add data-lake to its features")
            if "data-consumer" not in consumer.persona_names():
                raise LocatedError(where + ("consumer",), f"team {team.name}: team {grant.consumer} has no data-consumer "
                                   "persona to receive the grant; add it to its personas")


def _alarms(config: OrgConfig) -> None:
    """A team that raises CloudWatch alarms (FM endpoints, the fm-hosting template: feature
    hosting) or whose projects notify (feature service-catalog) must have someone to receive them."""
    for index, team in enumerate(config.teams):
        if Feature.HOSTING in team.features and team.alarms is None and team.budget is None:
            raise LocatedError(("teams", index, "features"), f"team {team.name}: feature hosting raises CloudWatch "
                               "alarms (endpoint latency, errors, capacity) that would reach no one: add alarms with "
                               "emails (or slack, teams channels), or a budget whose alert_emails receive them")
        if Feature.SERVICE_CATALOG in team.features and team.alarms is None and team.budget is None:
            raise LocatedError(("teams", index, "features"), f"team {team.name}: feature service-catalog sends "
                               "project notifications (model approvals, promoted models, dead letters) that would "
                               "reach no one: add alarms with emails (or slack, teams channels), or a budget whose "
                               "alert_emails receive them")


def _delivery(config: OrgConfig) -> None:
    org = config.organisation
    here = ("organisation", "delivery")
    for index, team in enumerate(config.teams):
        if team.name == RESERVED_TEAM_NAME:
            raise LocatedError(("teams", index, "name"), f"team name {RESERVED_TEAM_NAME!r} is reserved: the "
                               "platform's stacks, persona roles, boundary and delivery pipeline use it; choose "
                               "another name")
    if org.mode is Mode.SINGLE_ACCOUNT:
        if "delivery" in org.model_fields_set:
            raise LocatedError(here, "delivery is for mode organisation (pipelines in the governance account); "
                               "single-account mode deploys with `cdk deploy --all`: remove delivery")
        return
    source = org.delivery.source
    if source.connection_arn is not None:
        _, _, _, region, account = source.connection_arn.split(":")[:5]
        governance = next(a for a in config.accounts if a.role == "governance")
        where = here + ("source", "connection_arn")
        if region != org.region:
            raise LocatedError(where, f"the connection is in {region}; the pipelines run in {org.region} and "
                               "CodePipeline uses connections of its own Region")
        if account != governance.id:
            raise LocatedError(where, f"the connection belongs to account {account}; the pipelines run in the "
                               f"governance account {governance.name} ({governance.id}): create the connection there")


def _genai(config: OrgConfig) -> None:
    try:
        catalog = config.catalog
    except CatalogError as error:
        raise LocatedError(("models",), str(error)) from None
    for index, team in enumerate(config.teams):
        if team.genai is not None:
            _check_team_genai(catalog, config.organisation, ("teams", index), team, team.genai)


def _mode(config: OrgConfig) -> None:
    governance = [a for a in config.accounts if a.role == "governance"]
    if config.organisation.mode is Mode.SINGLE_ACCOUNT:
        if len(config.accounts) != 1:
            raise LocatedError(("organisation", "mode"), f"mode single-account takes exactly one account, found {len(config.accounts)}")
        if config.organisation.aws_organization_id is not None:
            raise LocatedError(("organisation", "aws_organization_id"), "aws_organization_id is for mode organisation; "
                               "a single account shares its mirror with no other account")
    elif len(governance) != 1:
        raise LocatedError(("accounts",), f"mode organisation needs exactly one governance account, found {len(governance)}")


def _overlapping(networks: list[ipaddress.IPv4Network]) -> bool:
    """Whether any two of ``networks`` overlap: sorted by first address, a range overlaps another
    exactly if it starts before the largest end so far (n log n, for organisations of hundreds of
    accounts; the pairwise search below then names the first pair in config order)."""
    end = None
    for net in sorted(networks, key=lambda n: int(n.network_address)):
        if end is not None and int(net.network_address) <= end:
            return True
        end = max(end or 0, int(net.broadcast_address))
    return False


def _networks(config: OrgConfig) -> None:
    zones = config.organisation.availability_zones
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    networks = [account.network.network for account in config.accounts]
    any_overlap = _overlapping(networks)
    for index, account in enumerate(config.accounts):
        net = account.network
        here = ("accounts", index, "network")
        if net.az_count is not None and net.az_count > len(zones):
            raise LocatedError(here + ("az_count",), f"account {account.name}: az_count {net.az_count} exceeds the "
                             f"{len(zones)} availability_zones of the organisation")
        if net.existing is not None:
            for sub_index, subnet in enumerate(net.existing.subnets):
                if subnet.availability_zone not in zones:
                    raise LocatedError(here + ("existing", "subnets", sub_index, "availability_zone"), f"account {account.name}: subnet {subnet.id} is in "
                                     f"{subnet.availability_zone}, not one of {zones}")
            if len({s.availability_zone for s in net.existing.subnets}) < 2:
                raise LocatedError(here + ("existing", "subnets"), f"account {account.name}: existing subnets must span at least two AZs")
        for other, other_net in seen if any_overlap else ():
            if networks[index].overlaps(other_net):
                field = ("existing", "cidr") if net.existing else ("cidr",)
                raise LocatedError(here + field, f"account {account.name}: CIDR {networks[index]} overlaps account "
                                 f"{other} ({other_net}); give each VPC its own range")
        seen.append((account.name, networks[index]))


def _team_accounts(config: OrgConfig) -> None:
    by_name = {a.name: a for a in config.accounts}
    single = config.organisation.mode is Mode.SINGLE_ACCOUNT
    for index, team in enumerate(config.teams):
        for stage, name in team.accounts.by_stage().items():
            account = by_name.get(name)
            here = ("teams", index, "accounts", str(stage))
            if account is None:
                raise LocatedError(here, f"team {team.name}: accounts.{stage} is {name!r}, which is not in "
                                 f"accounts; known: {', '.join(by_name)}")
            if single:
                continue
            if account.role != "workload" or account.stage is not stage:
                raise LocatedError(here, f"team {team.name}: accounts.{stage} is {name!r}, a "
                                 f"{account.stage or account.role} account; use a workload account with stage {stage}")


def _check_team_genai(catalog: Catalog, org: Organisation, here: tuple[Any, ...], team: Team, genai: GenAi) -> None:
    """Models in the catalog, usable commercially when the team is, hosted where the team can."""
    here = here + ("genai",)
    region = org.region
    features = set(team.features)
    if genai.bedrock_models and not features & {Feature.BEDROCK, Feature.BEDROCK_AGENTS}:
        raise LocatedError(here + ("bedrock_models",), f"team {team.name}: bedrock_models needs feature bedrock "
                           "(or bedrock-agents) in the team's features")
    if genai.endpoints and Feature.HOSTING not in features:
        raise LocatedError(here + ("endpoints",), f"team {team.name}: endpoints need feature hosting in the team's features")
    geography = genai.cross_region_inference
    if geography and not region.startswith(GEOGRAPHY_REGION_PREFIX[geography]):
        raise LocatedError(here + ("cross_region_inference",), f"{geography} inference profiles cannot be called "
                           f"from {region}; use the geography of the organisation's region")
    for position, model_id in enumerate(genai.bedrock_models):
        where = here + ("bedrock_models", position)
        model = _catalog_model(catalog, where, model_id, genai.commercial)
        if model.bedrock_model_id is None:
            raise LocatedError(where, f"model {model_id!r} has no bedrock_model_id in the catalog; add the current "
                               "Bedrock model under models: with its bedrock_model_id")
    _unique_within(here + ("endpoints",), [e.name for e in genai.endpoints])
    for position, endpoint in enumerate(genai.endpoints):
        where = here + ("endpoints", position)
        full_name = f"{org.name}-{team.name}-{endpoint.name}"
        if len(full_name) > MAX_ENDPOINT_NAME:
            raise LocatedError(where + ("name",), f"endpoint name {full_name!r} has {len(full_name)} characters; "
                               f"<organisation>-<team>-<name> may have at most {MAX_ENDPOINT_NAME}")
        model = _catalog_model(catalog, where + ("model",), endpoint.model, genai.commercial)
        if Availability.SAGEMAKER not in model.availability:
            raise LocatedError(where + ("model",), f"model {endpoint.model!r} is not available on SageMaker "
                               f"(availability: {', '.join(model.availability)}); host a SageMaker model")
        instance = endpoint.instance_type or model.gpu_instance
        if instance is None:
            raise LocatedError(where + ("instance_type",), f"model {endpoint.model!r} has no gpu_instance in the "
                               f"catalog; set instance_type (one of {', '.join(GPU_INSTANCE_TYPES)})")
        if instance not in GPU_INSTANCE_TYPES:
            raise LocatedError(where + ("instance_type",), f"the catalog's gpu_instance {instance} of {endpoint.model!r} "
                               f"is not an allowed endpoint type; set instance_type to one of {', '.join(GPU_INSTANCE_TYPES)}")
        if endpoint.image_region != region:
            raise LocatedError(where + ("image",), f"image is in {endpoint.image_region}; the VPC reaches ECR only in "
                               f"{region} (replicate the repository there)")


def _catalog_model(catalog: Catalog, where: tuple[Any, ...], model_id: str, commercial: bool) -> FoundationModel:
    try:
        model = catalog.get(model_id)
    except UnknownModelError as error:
        raise LocatedError(where, f"{error} (models come from config/fm-catalog.yaml and models:)") from None
    if commercial and not model.commercial_use:
        raise LocatedError(where, f"model {model_id!r} ({model.provider} {model.name}) cannot be used commercially "
                           "and the team has commercial: true; choose a model with commercial use")
    return model


def _unique_within(here: tuple[Any, ...], names: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise LocatedError(here + (index, "name"), f"duplicate name {name!r}; each endpoint of a team needs its own")
        seen.add(name)


def _unique(section: str, key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise LocatedError((section, index, key),
                               f"duplicate {key} {value!r} in {section}; each {key} must be unique")
        seen.add(value)
