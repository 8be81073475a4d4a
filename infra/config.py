"""Typed configuration: the one source of truth a platform team edits.

The YAML file is parsed with ruamel.yaml (which keeps line numbers) and validated with the
pydantic models below. Every error is reported as ``file:line: field: message`` so the user
sees the exact line to change. ``config/schema.json`` is generated from these models
(``fmops schema``) and a test proves it is current.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"
SCHEMA_PATH = REPO_ROOT / "config" / "schema.json"

SLUG = r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$"
ACCOUNT_ID = re.compile(r"^\d{12}$")
# CloudWatch Logs accepts only these retention values (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


class ConfigError(Exception):
    """A configuration file that cannot be used; ``str()`` is the message for the user."""


class LocatedError(ValueError):
    """A cross-field error that knows which field (path below the model) the user must change."""

    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class Feature(StrEnum):
    """Capabilities a team or account switches on; each one decides which VPC endpoints exist."""

    STUDIO = "studio"
    PIPELINES = "pipelines"
    HOSTING = "hosting"
    BEDROCK = "bedrock"
    BEDROCK_AGENTS = "bedrock-agents"
    SERVICE_CATALOG = "service-catalog"
    PRIVATE_API = "private-api"


class Stage(StrEnum):
    DEV = "dev"
    PREPROD = "preprod"
    PROD = "prod"


class Mode(StrEnum):
    ORGANISATION = "organisation"
    SINGLE_ACCOUNT = "single-account"


class Strict(BaseModel):
    """Base model: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


def _sagemaker_regions() -> frozenset[str]:
    """Commercial regions where SageMaker exists, from botocore's bundled endpoint data (offline)."""
    return frozenset(boto3.session.Session().get_available_regions("sagemaker"))


class ExistingSubnet(Strict):
    id: Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$", description="Subnet ID")]
    availability_zone: str = Field(description="AZ of the subnet, e.g. eu-west-1a")
    route_table_id: Annotated[str, Field(pattern=r"^rtb-[0-9a-f]{8,17}$", description="Route table of the subnet")]


class ExistingVpc(Strict):
    """Bring-your-own VPC: nothing is looked up at synth time, every ID comes from here."""

    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
    cidr: str = Field(description="Primary IPv4 CIDR of the VPC")
    subnets: list[ExistingSubnet] = Field(min_length=2, description="Isolated subnets, at least two AZs")
    endpoints: Literal["create", "central"] = Field(
        default="create",
        description="'create' adds interface endpoints to this VPC; 'central' uses endpoints shared "
        "from a network account (Landing Zone Accelerator style) and creates none",
    )
    s3_gateway_endpoint_id: Annotated[str | None, Field(pattern=r"^vpce-[0-9a-f]{8,17}$")] = Field(
        default=None, description="Existing S3 gateway endpoint; required with endpoints: central"
    )

    @model_validator(mode="after")
    def _central_needs_s3_endpoint(self) -> ExistingVpc:
        if self.endpoints == "central" and not self.s3_gateway_endpoint_id:
            raise LocatedError(
                ("s3_gateway_endpoint_id",), "endpoints: central needs s3_gateway_endpoint_id (the bucket policies allow only that endpoint)"
            )
        return self


class Network(Strict):
    """Either a new isolated VPC (cidr + az_count) or an existing one (existing)."""

    cidr: str | None = Field(default=None, description="IPv4 CIDR of the new VPC, RFC 1918, /16 to /24")
    az_count: int | None = Field(default=None, description="AZs used by the new VPC (2 or 3)")
    existing: ExistingVpc | None = None

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return _private_cidr(value)

    @model_validator(mode="after")
    def _one_mode(self) -> Network:
        if self.existing is not None:
            if self.cidr is not None or self.az_count is not None:
                raise LocatedError(("existing",), "give either existing or cidr/az_count, not both")
            _private_cidr(self.existing.cidr, min_prefix=8)
        elif self.cidr is None or self.az_count is None:
            raise LocatedError(("cidr" if self.cidr is None else "az_count",), "a new VPC needs both cidr and az_count (or use existing: for your own VPC)")
        elif not 2 <= self.az_count <= 3:
            raise LocatedError(("az_count",), f"az_count {self.az_count} is not allowed: use 2 or 3")
        return self

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(self.existing.cidr if self.existing else self.cidr)


def _private_cidr(value: str, min_prefix: int = 16) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 network CIDR ({exc}); example: 10.10.0.0/20") from None
    if net.version != 4 or not net.is_private:
        raise ValueError(f"{value!r} is not a private (RFC 1918) IPv4 range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    if not min_prefix <= net.prefixlen <= 24:
        raise ValueError(f"{value!r} has prefix /{net.prefixlen}; allowed is /{min_prefix} to /24")
    return value


class Account(Strict):
    name: Annotated[str, Field(pattern=SLUG, description="Short name used in stack names")]
    id: str = Field(description="12-digit AWS account ID, quoted")
    role: Literal["governance", "workload"]
    stage: Stage | None = Field(default=None, description="dev, preprod or prod (workload accounts)")
    features: list[Feature] = Field(
        default_factory=list, description="Features on for the account itself, on top of its teams'"
    )
    network: Network

    @field_validator("id", mode="before")
    @classmethod
    def _account_id(cls, value: Any) -> Any:
        if isinstance(value, int):
            raise ValueError(f"{value} must be a quoted string of 12 digits (e.g. id: \"{value:012d}\"), "
                             "YAML drops leading zeros from numbers")
        if not isinstance(value, str) or not ACCOUNT_ID.match(value):
            raise ValueError(f"{value!r} is not an AWS account ID: use exactly 12 digits, quoted")
        return value

    @model_validator(mode="after")
    def _stage_for_workloads(self) -> Account:
        if self.role == "workload" and self.stage is None:
            raise LocatedError(("role",), "a workload account needs stage: dev, preprod or prod")
        if self.role == "governance" and self.stage is not None:
            raise LocatedError(("stage",), "a governance account has no stage; remove stage")
        return self


class TeamAccounts(Strict):
    dev: str = Field(description="Name of the team's dev account")
    preprod: str | None = Field(default=None, description="Name of the team's preprod account")
    prod: str | None = Field(default=None, description="Name of the team's prod account")

    def by_stage(self) -> dict[Stage, str]:
        return {Stage(k): v for k, v in self.model_dump().items() if v is not None}


class Team(Strict):
    name: Annotated[str, Field(pattern=SLUG, description="Team name, used in stack names and tags")]
    cost_centre: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/=+@ -]+$")]
    accounts: TeamAccounts
    features: list[Feature] = Field(min_length=1, description="Capabilities the team uses")


class Organisation(Strict):
    name: Annotated[str, Field(pattern=SLUG, description="Prefix of every stack and resource name")]
    mode: Mode
    region: str = Field(description="AWS region of every account, e.g. eu-west-1")
    availability_zones: list[str] = Field(min_length=2, description="AZ names, in the region")
    log_retention_days: int = Field(default=365, description="CloudWatch Logs retention")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource")
    dns_allowed_domains: list[Annotated[str, Field(pattern=r"^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+\.?$")]] = Field(
        default_factory=list,
        description="Domains the VPCs may resolve besides AWS service names (e.g. '*.corp.example.com'); "
        "every other DNS query is blocked by the DNS firewall",
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        regions = _sagemaker_regions()
        if value not in regions:
            raise ValueError(f"unknown region {value!r}; SageMaker regions are: {', '.join(sorted(regions))}")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention; allowed: {LOG_RETENTION_DAYS}")
        return value

    @model_validator(mode="after")
    def _zones(self) -> Organisation:
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise LocatedError(("availability_zones",), "availability_zones has duplicates")
        for zone in self.availability_zones:
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", zone):
                raise LocatedError(("availability_zones", self.availability_zones.index(zone)), f"availability zone {zone!r} is not in region {self.region} "
                                 f"(expected e.g. {self.region}a)")
        return self


class OrgConfig(Strict):
    """The whole organisation: accounts, their networks, and the teams that use them."""

    organisation: Organisation
    accounts: list[Account] = Field(min_length=1)
    teams: list[Team] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> OrgConfig:
        _unique("accounts", "name", [a.name for a in self.accounts])
        _unique("accounts", "id", [a.id for a in self.accounts])
        _unique("teams", "name", [t.name for t in self.teams])
        self._check_mode()
        self._check_networks()
        self._check_team_accounts()
        return self

    def _check_mode(self) -> None:
        governance = [a for a in self.accounts if a.role == "governance"]
        if self.organisation.mode is Mode.SINGLE_ACCOUNT:
            if len(self.accounts) != 1:
                raise LocatedError(("organisation", "mode"), f"mode single-account takes exactly one account, found {len(self.accounts)}")
        elif len(governance) != 1:
            raise LocatedError(("accounts",), f"mode organisation needs exactly one governance account, found {len(governance)}")

    def _check_networks(self) -> None:
        zones = self.organisation.availability_zones
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for index, account in enumerate(self.accounts):
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
            for other, other_net in seen:
                if net.network.overlaps(other_net):
                    field = ("existing", "cidr") if net.existing else ("cidr",)
                    raise LocatedError(here + field, f"account {account.name}: CIDR {net.network} overlaps account "
                                     f"{other} ({other_net}); give each VPC its own range")
            seen.append((account.name, net.network))

    def _check_team_accounts(self) -> None:
        by_name = {a.name: a for a in self.accounts}
        single = self.organisation.mode is Mode.SINGLE_ACCOUNT
        for index, team in enumerate(self.teams):
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

    # -- derived views used by the stacks -------------------------------------------------
    def account(self, name: str) -> Account:
        return next(a for a in self.accounts if a.name == name)

    def teams_in(self, account: Account) -> list[Team]:
        """Teams with any stage in this account (all teams in single-account mode)."""
        return [t for t in self.teams if account.name in t.accounts.by_stage().values()]

    def features_of(self, account: Account) -> frozenset[Feature]:
        found = set(account.features)
        for team in self.teams_in(account):
            found.update(team.features)
        return frozenset(found)

    @cached_property
    def account_ids(self) -> list[str]:
        return sorted(a.id for a in self.accounts)


def _unique(section: str, key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise LocatedError((section, index, key),
                               f"duplicate {key} {value!r} in {section}; each {key} must be unique")
        seen.add(value)


# -- loading --------------------------------------------------------------------------------

def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _line_of(doc: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest key/item of ``loc`` that exists in the YAML document."""
    node, line = doc, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0]
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0]
            node = node[part]
        else:
            break
    return None if line is None else line + 1


def _field_path(loc: tuple[Any, ...], doc: Any) -> str:
    """Human path such as ``teams[1](name=risk).features[0]``."""
    out, node = "", doc
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            if isinstance(node, CommentedSeq) and part < len(node):
                node = node[part]
                if isinstance(node, CommentedMap) and "name" in node:
                    out += f"(name={node['name']})"
                continue
        else:
            out += ("." if out else "") + str(part)
        node = node.get(part) if isinstance(node, CommentedMap) else None
    return out or "(top level)"


def format_validation_error(exc: ValidationError, doc: Any, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedError):
            loc += cause.loc
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r} (typo?); see config/schema.json for the allowed keys"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "enum":
            msg = f"{err.get('input')!r} is not allowed; {msg.lower()}"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            msg = f"{err['input']!r}: {msg}"
        line = _line_of(doc, loc)
        where = f"{source}:{line}" if line else source
        lines.append(f"{where}: {_field_path(loc, doc)}: {msg}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None) -> OrgConfig:
    """Load and validate a config file; raise ConfigError with file:line messages on bad input."""
    source = Path(path) if path else DEFAULT_CONFIG
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read config ({exc.strerror})") from None
    try:
        doc = _yaml().load(text)
    except YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(doc, CommentedMap):
        raise ConfigError(f"{source}: the config must be a YAML mapping with organisation, accounts and teams")
    try:
        return OrgConfig.model_validate(_plain(doc))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, doc, str(source))) from None


def _plain(node: Any) -> Any:
    """ruamel containers to plain dicts/lists, so pydantic sees ordinary Python values."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def json_schema() -> dict[str, Any]:
    schema = OrgConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "FMOps Foundation configuration"
    return schema
