"""What AWS would refuse at deploy time, refused at validate time: the names that config strings
become (through :mod:`infra.naming` and the stacks), the tag rules, and the AZs of a region.

Each limit cites the AWS rule it comes from. A name is checked only where the app creates the
resource, and the error names the field to shorten, the resulting name, its length and the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra import naming
from infra.config.base import Feature, LocatedError, Mode

if TYPE_CHECKING:
    from infra.config.organisation import Account, OrgConfig
    from infra.config.team import Team

# S3 bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"): 3-63
# characters, and no name may start with these prefixes.
MAX_BUCKET_NAME = naming.MAX_BUCKET_NAME
BUCKET_PREFIXES_RESERVED = ("xn--", "sthree-", "amzn-s3-demo-")
# IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): role names 64, managed policy names 128.
MAX_ROLE_NAME = naming.MAX_ROLE_NAME
MAX_POLICY_NAME = 128
# Lambda CreateFunction: FunctionName at most 64 characters.
MAX_FUNCTION_NAME = 64
# SageMaker CreateDomain DomainName and CreateUserProfile UserProfileName: at most 63 characters.
MAX_STUDIO_NAME = 63
# KMS CreateAlias: AliasName at most 256 characters.
MAX_KMS_ALIAS = 256
# Cognito CreateUserPoolDomain: a prefix of at most 63 characters that contains none of the
# reserved words aws, amazon and cognito (Cognito Developer Guide, "Using the Amazon Cognito domain").
MAX_COGNITO_PREFIX = 63
COGNITO_RESERVED_WORDS = ("aws", "amazon", "cognito")
# CodePipeline quotas: pipeline names at most 100 characters.
MAX_PIPELINE_NAME = 100
# CloudFormation CreateStack: StackName at most 128 characters.
MAX_STACK_NAME = 128

# Tagging rules (AWS "Tagging AWS resources", "Tag naming limits and requirements"): at most 50
# user tags per resource, keys 1-128 and values 0-256 characters of letters, digits, spaces and
# _ . : / = + - @, and the aws: prefix (in any case) is reserved for AWS.
MAX_TAGS_PER_RESOURCE = 50
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256
TAG_TEXT = re.compile(r"^[\w\s.:/=+\-@]*$")
# Keys the app itself puts on resources (at most all of them on one resource: a Studio-visible
# Service Catalog product of a team carries the organisation's, the team's and the product's).
APP_TAG_KEYS = (naming.TAG_ORGANISATION, naming.TAG_COST_CENTRE, naming.TAG_TEAM, naming.TAG_PROJECT,
                naming.TAG_TEMPLATE, "fmops:persona", naming.STUDIO_VISIBILITY_TAG[0])
MAX_CONFIG_TAGS = MAX_TAGS_PER_RESOURCE - len(APP_TAG_KEYS)


@dataclass(frozen=True)
class Name:
    """A name the app gives a resource, and the config field to change when it is too long."""

    kind: str
    value: str
    limit: int
    field: tuple[Any, ...]
    fix: str


def check_limits(config: OrgConfig) -> None:
    _check_tags(config)
    _check_zones(config)
    _check_bucket_prefixes(config)
    for name in _names(config):
        if len(name.value) > name.limit:
            raise LocatedError(name.field, f"the {name.kind} {name.value!r} has {len(name.value)} characters; AWS "
                               f"allows at most {name.limit}: {name.fix}")
    _check_cognito_words(config)


# -- names ------------------------------------------------------------------------------------

def _names(config: OrgConfig) -> Iterator[Name]:
    org = config.organisation
    shorten_org = "shorten the organisation name"
    for index, account in enumerate(config.accounts):
        fix = f"{shorten_org} or the account name"
        yield Name("S3 bucket name", naming.access_log_bucket_name(org.name, account.id, org.region), MAX_BUCKET_NAME,
                   ("organisation", "name"), shorten_org)
        yield Name("SageMaker Studio domain name", f"{org.name}-{account.name}", MAX_STUDIO_NAME,
                   ("accounts", index, "name"), fix)
        yield Name("Cognito domain prefix", _cognito_prefix(org.name, account), MAX_COGNITO_PREFIX,
                   ("organisation", "name"), shorten_org)
        for suffix in ("platform", "studio", "bedrock-logging", "labeling", "delivery", "packages"):
            yield Name("CloudFormation stack name", naming.stack_name(org.name, account.name, suffix), MAX_STACK_NAME,
                       ("accounts", index, "name"), fix)
        for persona in _platform_personas():
            yield Name("IAM role name", naming.persona_role_name(org.name, "platform", persona), MAX_ROLE_NAME,
                       ("organisation", "name"), shorten_org)
    for index, team in enumerate(config.teams):
        yield from _team_names(config, index, team)
    if org.mode is Mode.ORGANISATION:
        governance = next(a for a in config.accounts if a.role == "governance")
        yield Name("S3 bucket name", naming.delivery_bucket_name(org.name, governance.id, org.region), MAX_BUCKET_NAME,
                   ("organisation", "name"), shorten_org)
        for index, team in enumerate(config.teams):
            fix = f"{shorten_org} or the team name"
            yield Name("CodePipeline name", f"{org.name}-{team.name}", MAX_PIPELINE_NAME, ("teams", index, "name"), fix)
            yield Name("CloudFormation stack name", naming.stack_name(org.name, team.name, "pipeline"), MAX_STACK_NAME,
                       ("teams", index, "name"), fix)


def _team_names(config: OrgConfig, index: int, team: Team) -> Iterator[Name]:
    org = config.organisation
    here = ("teams", index, "name")
    fix = "shorten the team name or the organisation name"
    by_name = {a.name: a for a in config.accounts}
    accounts = [by_name[name] for name in dict.fromkeys(team.accounts.by_stage().values()) if name in by_name]
    promotes = (org.mode is Mode.ORGANISATION and len(accounts) > 1
                and {Feature.PIPELINES, Feature.SERVICE_CATALOG} <= set(team.features))
    for account in accounts:
        yield Name("S3 bucket name", naming.team_bucket_name(org.name, team.name, account.id, org.region),
                   MAX_BUCKET_NAME, here, fix)
        if promotes:  # infra.naming.promoted_models_bucket_name
            yield Name("S3 bucket name", f"{org.name}-{team.name}-models-{account.id}-{org.region}", MAX_BUCKET_NAME,
                       here, fix)
        for suffix in ("", "genai", "endpoints", "catalog"):
            parts = (account.name, team.name, suffix) if suffix else (account.name, team.name)
            yield Name("CloudFormation stack name", naming.stack_name(org.name, *parts), MAX_STACK_NAME, here, fix)
    for persona in team.persona_names():
        yield Name("IAM role name", naming.persona_role_name(org.name, team.name, persona), MAX_ROLE_NAME, here, fix)
        yield Name("SageMaker Studio user profile name", naming.studio_user_profile_name(team.name, persona),
                   MAX_STUDIO_NAME, here, "shorten the team name")
    yield Name("IAM role name", naming.catalog_launch_role_name(org.name, team.name), MAX_ROLE_NAME, here, fix)
    for role in (naming.promotion_role_name(org.name, team.name), naming.import_role_name(org.name, team.name)):
        yield Name("IAM role name", role, MAX_ROLE_NAME, here, fix)
        yield Name("Lambda function name", role, MAX_FUNCTION_NAME, here, fix)
    for policy in (naming.boundary_name(org.name, team.name), naming.launch_boundary_name(org.name, team.name),
                   naming.catalog_end_user_policy_name(org.name, team.name),
                   naming.guarded_invoke_policy_name(org.name, team.name)):
        yield Name("IAM managed policy name", policy, MAX_POLICY_NAME, here, fix)
    for kind in ("data", "genai", "projects"):
        yield Name("KMS alias", f"alias/{org.name}/{team.name}/{kind}", MAX_KMS_ALIAS, here, fix)
    for position, endpoint in enumerate(team.genai.endpoints if team.genai else []):
        role = naming.endpoint_role_name(naming.endpoint_name(org.name, team.name, endpoint.name))
        yield Name("IAM role name", role, MAX_ROLE_NAME, ("teams", index, "genai", "endpoints", position, "name"),
                   "shorten the endpoint, team or organisation name")


@cache
def _platform_personas() -> tuple[str, ...]:
    from infra.config.matrix import load_matrix

    return tuple(load_matrix().platform_personas())


def _cognito_prefix(organisation: str, account: Account) -> str:
    """The labeling workforce's Cognito domain prefix (infra/stacks/catalog/labeling.py)."""
    return f"{organisation}-{account.id}-labelers"


def _check_bucket_prefixes(config: OrgConfig) -> None:
    name = config.organisation.name
    for prefix in BUCKET_PREFIXES_RESERVED:
        if name.startswith(prefix):
            raise LocatedError(("organisation", "name"), f"organisation name {name!r} starts with {prefix!r}; the "
                               f"app's S3 bucket names start with the organisation name and S3 reserves the prefix "
                               f"{prefix!r}: choose another name")


def _check_cognito_words(config: OrgConfig) -> None:
    """Accounts with a team's project catalog may get a labeling workforce (Cognito domain)."""
    name = config.organisation.name
    catalogs = {n for t in config.teams if Feature.SERVICE_CATALOG in t.features for n in t.accounts.by_stage().values()}
    for account in config.accounts:
        if account.name not in catalogs:
            continue
        prefix = _cognito_prefix(name, account)
        word = next((w for w in COGNITO_RESERVED_WORDS if w in prefix), None)
        if word is not None:
            raise LocatedError(("organisation", "name"), f"the Cognito domain prefix {prefix!r} of the labeling "
                               f"workforce contains {word!r}, which Cognito reserves (aws, amazon, cognito): choose "
                               "an organisation name without it")


# -- tags ---------------------------------------------------------------------------------------

def _check_tags(config: OrgConfig) -> None:
    tags = config.organisation.tags
    here = ("organisation", "tags")
    if len(tags) > MAX_CONFIG_TAGS:
        raise LocatedError(here, f"{len(tags)} tags; a resource takes at most {MAX_TAGS_PER_RESOURCE} and the app adds "
                           f"up to {len(APP_TAG_KEYS)} of its own ({', '.join(APP_TAG_KEYS)}): keep at most "
                           f"{MAX_CONFIG_TAGS}")
    for key, value in tags.items():
        where = here + (key,)
        if key.lower().startswith("aws:"):
            raise LocatedError(where, f"tag key {key!r}: the prefix aws: (in any case) is reserved for AWS; rename it")
        if key.startswith("fmops:") or key in APP_TAG_KEYS:
            raise LocatedError(where, f"tag key {key!r}: the app sets the fmops: tags itself; rename it")
        if not 1 <= len(key) <= MAX_TAG_KEY or not TAG_TEXT.match(key):
            raise LocatedError(where, f"tag key {key!r}: use 1 to {MAX_TAG_KEY} letters, digits, spaces and _ . : / = + - @")
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE or not TAG_TEXT.match(value):
            raise LocatedError(where, f"tag value {value!r}: use at most {MAX_TAG_VALUE} letters, digits, spaces and "
                               "_ . : / = + - @")


# -- availability zones ---------------------------------------------------------------------------

AVAILABILITY_ZONES_FILE = Path(__file__).with_name("availability_zones.json")
REGENERATE_ZONES = "python -c 'from infra.config.limits import write_availability_zones as w; w()'"


def availability_zone_table() -> dict[str, list[str]]:
    """Region -> its AZ names, from the table bundled with the pinned cfn-lint (botocore bundles
    none). Used to write ``availability_zones.json`` (``write_availability_zones``), which
    validation reads so that ``fmops validate`` and every synth need not import cfn-lint;
    ``tests/test_config_limits.py`` proves the file is what the pinned cfn-lint holds."""
    from cfnlint.helpers import AVAILABILITY_ZONES

    return {region: sorted(zones) for region, zones in sorted(AVAILABILITY_ZONES.items())}


@cache
def _zones() -> dict[str, list[str]]:
    return json.loads(AVAILABILITY_ZONES_FILE.read_text(encoding="utf-8"))["zones"]


def region_zones(region: str) -> tuple[str, ...] | None:
    """The AZ names of ``region``; None for a region the table does not know."""
    zones = _zones().get(region)
    return tuple(zones) if zones else None


def write_availability_zones() -> None:
    from importlib.metadata import version

    document = {"source": f"cfn-lint {version('cfn-lint')} (cfnlint.helpers.AVAILABILITY_ZONES)",
                "regenerate": REGENERATE_ZONES, "zones": availability_zone_table()}
    AVAILABILITY_ZONES_FILE.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _check_zones(config: OrgConfig) -> None:
    org = config.organisation
    known = region_zones(org.region)
    if known is None:
        return
    for index, zone in enumerate(org.availability_zones):
        if zone not in known:
            raise LocatedError(("organisation", "availability_zones", index), f"availability zone {zone!r} does not "
                               f"exist in {org.region}; its zones are {', '.join(known)}")
