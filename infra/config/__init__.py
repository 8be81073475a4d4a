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

from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from infra.config.fm_catalog import Availability, Catalog, CatalogError, FoundationModel, UnknownModelError, load_catalog

from infra import REPO_ROOT
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


# -- GenAI runtime: Bedrock models and guardrail, SageMaker FM endpoints ---------------------

class FilterStrength(StrEnum):
    NONE = "NONE"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class ContentFilter(Strict):
    input: FilterStrength = Field(default=FilterStrength.HIGH, description="Strength on prompts")
    output: FilterStrength = Field(default=FilterStrength.HIGH, description="Strength on model responses")


class ContentFilters(Strict):
    """Bedrock guardrail content filters, one strength per category for prompts and responses."""

    hate: ContentFilter = ContentFilter()
    insults: ContentFilter = ContentFilter()
    sexual: ContentFilter = ContentFilter()
    violence: ContentFilter = ContentFilter()
    misconduct: ContentFilter = ContentFilter()
    prompt_attack: ContentFilter = Field(
        default=ContentFilter(output=FilterStrength.NONE),
        description="Jailbreak and prompt-injection filter; applies to prompts only (output must be NONE)",
    )

    @model_validator(mode="after")
    def _prompt_attack_on_input_only(self) -> ContentFilters:
        if self.prompt_attack.output is not FilterStrength.NONE:
            raise LocatedError(("prompt_attack", "output"), "Bedrock filters prompt attacks on prompts only; set output: NONE")
        return self


PiiEntity = Literal[
    "ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "CREDIT_DEBIT_CARD_NUMBER", "DRIVER_ID", "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IP_ADDRESS", "LICENSE_PLATE", "MAC_ADDRESS", "NAME", "PASSWORD",
    "PHONE", "PIN", "SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "URL", "USERNAME", "US_BANK_ACCOUNT_NUMBER", "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "US_PASSPORT_NUMBER", "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
]


class PiiPolicy(Strict):
    entities: list[PiiEntity] = Field(
        default_factory=lambda: ["EMAIL", "PHONE", "NAME", "ADDRESS", "CREDIT_DEBIT_CARD_NUMBER",
                                 "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "PASSWORD", "AWS_ACCESS_KEY", "AWS_SECRET_KEY"],
        description="PII types the guardrail detects in prompts and responses",
    )
    action: Literal["BLOCK", "ANONYMIZE"] = Field(default="ANONYMIZE", description="Block the message or mask the PII")


class DeniedTopic(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[0-9a-zA-Z\-_ !?.]+$")]
    definition: Annotated[str, Field(min_length=1, max_length=200, description="What the topic covers")]
    examples: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=5)


class GuardrailSettings(Strict):
    """The team's Bedrock guardrail; every invoke/converse call of the team must name it (IAM)."""

    content_filters: ContentFilters = ContentFilters()
    pii: PiiPolicy = PiiPolicy()
    denied_topics: list[DeniedTopic] = Field(default_factory=list, max_length=30)
    blocked_words: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    profanity_filter: bool = Field(default=True, description="Also block AWS's managed profanity word list")
    blocked_input_message: Annotated[str, Field(min_length=1, max_length=500)] = (
        "This request is not allowed by the team's AI usage policy.")
    blocked_output_message: Annotated[str, Field(min_length=1, max_length=500)] = (
        "The response was withheld by the team's AI usage policy.")


GpuInstanceType = Literal[tuple(GPU_INSTANCE_TYPES)]  # type: ignore[valid-type]
ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
                       r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")
# Set by the endpoint construct (local weights, no hub) or hub credentials: never from config.
RESERVED_CONTAINER_ENV = ("HF_MODEL_ID", "OPTION_MODEL_ID", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                          "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


class FmEndpointSettings(Strict):
    """A catalog model hosted on a private SageMaker endpoint in each of the team's accounts."""

    name: Annotated[str, Field(pattern=SLUG, description="Endpoint name within the team")]
    model: str = Field(description="FM catalog id (config/fm-catalog.yaml or models:)")
    instance_type: GpuInstanceType | None = Field(  # type: ignore[valid-type]
        default=None, description="Overrides the catalog's gpu_instance; one of the allowed GPU types")
    min_instances: int = Field(
        default=1, ge=0, le=20,
        description="0 scales to zero when idle: the model is then hosted as an inference component, the "
        "only SageMaker hosting that scales to zero instances",
    )
    max_instances: int = Field(default=2, ge=1, le=20)
    target_invocations_per_instance: int = Field(
        default=30, ge=1, description="Invocations per instance (per copy at scale to zero) and minute that "
        "target tracking keeps")
    weights: Annotated[str, Field(pattern=r"^[A-Za-z0-9!_.*'()-]+(?:/[A-Za-z0-9!_.*'()-]+)*(?:/|\.tar\.gz)$")] = Field(
        description="Where the weights are staged in the team's model bucket: a key prefix ending in / "
        "(uncompressed) or a .tar.gz key")
    image: str = Field(description="Serving image in ECR, in the organisation's region: "
                       "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>")
    environment: dict[Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")], str] = Field(
        default_factory=dict, description="Extra container variables (e.g. SM_NUM_GPUS); hub settings are not allowed")
    data_capture_percent: int = Field(default=20, ge=1, le=100, description="Share of requests captured to S3")

    @field_validator("image")
    @classmethod
    def _ecr_image(cls, value: str) -> str:
        if not ECR_IMAGE.match(value):
            raise ValueError(f"{value!r} is not an ECR image URI; use <account>.dkr.ecr.<region>.amazonaws.com/"
                             "<repository>:<tag> (images come from ECR, never from a public registry)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FmEndpointSettings:
        if self.max_instances < max(self.min_instances, 1):
            raise LocatedError(("max_instances",), f"max_instances {self.max_instances} is below min_instances "
                               f"{self.min_instances} (and at least 1)")
        reserved = sorted(set(self.environment) & set(RESERVED_CONTAINER_ENV))
        if reserved:
            raise LocatedError(("environment", reserved[0]), f"{reserved[0]} is set by the platform (weights load from "
                               "/opt/ml/model, never from a hub); remove it")
        return self

    @property
    def image_region(self) -> str:
        return ECR_IMAGE.match(self.image)["region"]  # type: ignore[index]


class GenAi(Strict):
    """A team's GenAI runtime: allowed Bedrock models, its guardrail, and hosted FM endpoints."""

    commercial: bool = Field(description="The team ships a commercial product: every model must allow commercial use")
    bedrock_models: list[str] = Field(
        default_factory=list, description="FM catalog ids of the Bedrock models the team may invoke (needs feature bedrock)")
    cross_region_inference: Literal["us", "eu", "apac"] | None = Field(
        default=None, description="Invoke through the system-defined cross-Region inference profiles of this "
        "geography (e.g. eu.amazon.nova-pro-v1:0) instead of in-Region model ids")
    guardrail: GuardrailSettings = GuardrailSettings()
    endpoints: list[FmEndpointSettings] = Field(
        default_factory=list, description="Catalog models hosted on SageMaker endpoints (needs feature hosting)")


class TeamBudget(Strict):
    """A monthly AWS Budget per team and account, on the team's cost-allocation tag."""

    monthly_usd: float = Field(gt=0, description="Monthly budget of the team in each of its accounts, USD")
    alert_emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(
        min_length=1, max_length=10, description="Who is told at 80% of actual and 100% of forecast spend")


class SourceKind(StrEnum):
    """Where the code of a project launched from the catalog lives."""

    S3 = "s3"
    CODECOMMIT = "codecommit"
    CODECONNECTIONS = "codeconnections"


CONNECTION_ARN = r"^arn:aws:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"


class ProjectSource(Strict):
    """The code repository of projects: the seed bundle in S3 (no repository), a new CodeCommit
    repository per project, or an existing CodeConnections connection to a Git host."""

    kind: SourceKind = Field(
        default=SourceKind.S3,
        description="s3: pipelines run the template's seed bundle or a bundle the team uploads; codecommit: a "
        "repository per project, seeded with the template's code; codeconnections: a repository on the Git host "
        "of connection_arn, named when the project is launched")
    connection_arn: Annotated[str | None, Field(pattern=CONNECTION_ARN)] = Field(
        default=None, description="kind codeconnections: the connection (created and accepted by the platform team)")
    accepted_because: Annotated[str | None, Field(min_length=20, max_length=500)] = Field(
        default=None, description="kind codeconnections: why the organisation accepts this Git host (e.g. a "
        "self-managed server reached through a VPC host); written into every pipeline that uses it")

    @model_validator(mode="after")
    def _connection_only_for_codeconnections(self) -> ProjectSource:
        if self.kind is SourceKind.CODECONNECTIONS:
            if self.connection_arn is None:
                raise LocatedError(("connection_arn",), "kind codeconnections needs connection_arn")
            if self.accepted_because is None:
                raise LocatedError(("accepted_because",), "kind codeconnections needs accepted_because: code from a Git "
                                   "host outside AWS is an exception to the internet-free rules; say why it is accepted")
        elif self.connection_arn is not None or self.accepted_because is not None:
            field = "connection_arn" if self.connection_arn is not None else "accepted_because"
            raise LocatedError((field,), f"{field} is only used with kind codeconnections")
        return self


class TeamCatalog(Strict):
    """The team's Service Catalog portfolio of project templates (needs feature service-catalog)."""

    projects: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list, max_length=50,
        description="Allowed values of the fmops:project TagOption (cost allocation per project); default: the team name")
    source: ProjectSource = ProjectSource()
    share_from_governance: bool = Field(
        default=False, description="Publish the team's products once, in the governance account, and share the "
        "portfolio with the team's workload accounts (mode organisation)")
    governance_portfolio_id: Annotated[str | None, Field(pattern=r"^port-[a-z0-9]{13}$")] = Field(
        default=None, description="With share_from_governance: the shared portfolio's id (an output of the governance "
        "catalog stack after its first deployment); the workload accounts then accept the share and give the team's "
        "launcher roles access to it")

    @model_validator(mode="after")
    def _portfolio_id_with_share(self) -> TeamCatalog:
        if self.governance_portfolio_id is not None and not self.share_from_governance:
            raise LocatedError(("governance_portfolio_id",), "governance_portfolio_id needs share_from_governance: true")
        if len(set(self.projects)) != len(self.projects):
            raise LocatedError(("projects",), "projects has duplicates")
        return self


class Team(Strict):
    name: Annotated[str, Field(pattern=SLUG, description="Team name, used in stack names and tags")]
    cost_centre: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/=+@ -]+$")]
    accounts: TeamAccounts
    features: list[Feature] = Field(min_length=1, description="Capabilities the team uses")
    genai: GenAi | None = Field(default=None, description="Bedrock models, guardrail and FM endpoints of the team")
    budget: TeamBudget | None = Field(default=None, description="Monthly AWS Budget with alerts per account")
    catalog: TeamCatalog = Field(default=TeamCatalog(), description="Project templates offered to the team "
                                 "(Service Catalog portfolio); needs feature service-catalog")
    personas: list[str] | None = Field(
        default=None, description="Team personas that get a role (infra/personas/matrix.yaml); default: all of them")
    assume_principal: Annotated[str | None, Field(pattern=r"^arn:aws:iam::\d{12}:(root|role/[\w+=,.@/-]+)$")] = Field(
        default=None, description="Who may assume the team's persona roles: an SSO/federation role ARN; "
        "default: the account's own IAM principals with MFA")

    @field_validator("personas")
    @classmethod
    def _known_personas(cls, value: list[str] | None) -> list[str] | None:
        from infra.personas import load_matrix

        allowed = load_matrix().team_personas()
        for persona in value or []:
            if persona not in allowed:
                raise ValueError(f"unknown team persona {persona!r}; allowed: {', '.join(allowed)}")
        return value

    def persona_names(self) -> list[str]:
        from infra.personas import load_matrix

        return self.personas if self.personas is not None else load_matrix().team_personas()


# Which source kinds use which optional field of ``delivery.source``.
DELIVERY_SOURCE_FIELDS: dict[str, tuple[SourceKind, ...]] = {
    "object_key": (SourceKind.S3,),
    "repository": (SourceKind.CODECOMMIT, SourceKind.CODECONNECTIONS),
    "branch": (SourceKind.CODECOMMIT, SourceKind.CODECONNECTIONS),
    "connection_arn": (SourceKind.CODECONNECTIONS,),
    "accepted_because": (SourceKind.CODECONNECTIONS,),
}


class DeliverySource(Strict):
    """Where the delivery pipelines (mode organisation) read this repository from.

    ``s3``: a zip of the repository uploaded to the organisation's delivery bucket in the
    governance account (reachable only through that account's VPC; nothing outside AWS);
    ``codecommit``: an existing CodeCommit repository of the governance account;
    ``codeconnections``: a repository on a Git host behind an existing, accepted connection.
    """

    kind: SourceKind = Field(
        default=SourceKind.S3,
        description="s3 (default): a zip uploaded to the delivery bucket of the governance account; codecommit: "
        "an existing CodeCommit repository of the governance account; codeconnections: a Git repository reached "
        "through an existing CodeConnections connection")
    object_key: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9!_.*'()/-]{1,1000}\.zip$")] = Field(
        default=None, description="kind s3: key of the zip in the delivery bucket; default fmops-foundation.zip")
    repository: str | None = Field(
        default=None, description="kind codecommit: the repository name; kind codeconnections: owner/name on the Git host")
    branch: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9._/-]{1,100}$")] = Field(
        default=None, description="kind codecommit or codeconnections: the branch the pipelines deploy; default main")
    connection_arn: Annotated[str | None, Field(pattern=CONNECTION_ARN)] = Field(
        default=None, description="kind codeconnections: the connection (created and accepted by the platform team, "
        "in the governance account and the organisation's region)")
    accepted_because: Annotated[str | None, Field(min_length=20, max_length=500)] = Field(
        default=None, description="kind codeconnections: why the organisation accepts this Git host (e.g. a "
        "self-managed server reached through a VPC host); written into every delivery pipeline")

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> DeliverySource:
        for name, kinds in DELIVERY_SOURCE_FIELDS.items():
            if getattr(self, name) is not None and self.kind not in kinds:
                raise LocatedError((name,), f"{name} is not used with kind {self.kind}; it belongs to kind "
                                   f"{' or '.join(str(k) for k in kinds)}")
        if self.kind is SourceKind.CODECOMMIT:
            if self.repository is None:
                raise LocatedError(("kind",), "kind codecommit needs repository: the name of an existing CodeCommit "
                                   "repository in the governance account")
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", self.repository):
                raise LocatedError(("repository",), f"{self.repository!r} is not a CodeCommit repository name; use "
                                   "letters, digits, '.', '_' and '-', at most 100 characters")
        if self.kind is SourceKind.CODECONNECTIONS:
            for name, why in (("connection_arn", "the connection the platform team created and accepted"),
                              ("repository", "the repository as owner/name"),
                              ("accepted_because", "code from a Git host outside AWS is an exception to the "
                               "internet-free rules; say why it is accepted")):
                if getattr(self, name) is None:
                    raise LocatedError(("kind",), f"kind codeconnections needs {name}: {why}")
            if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", self.repository or ""):
                raise LocatedError(("repository",), f"{self.repository!r} is not owner/name; with kind "
                                   "codeconnections give the repository as owner/name, e.g. platform/fmops-foundation")
        return self

    @property
    def key(self) -> str:
        return self.object_key or "fmops-foundation.zip"

    @property
    def branch_name(self) -> str:
        return self.branch or "main"


class Delivery(Strict):
    """Multi-account delivery (mode organisation): one self-mutating CDK pipeline per team in the
    governance account deploys the team's dev, preprod and prod accounts, with a manual approval
    before preprod and before prod (docs/delivery.md)."""

    source: DeliverySource = Field(default=DeliverySource(), description="Where the pipelines read this "
                                   "repository from")


class Organisation(Strict):
    name: Annotated[str, Field(pattern=SLUG, description="Prefix of every stack and resource name")]
    mode: Mode
    region: str = Field(description="AWS region of every account, e.g. eu-west-1")
    availability_zones: list[str] = Field(min_length=2, description="AZ names, in the region")
    log_retention_days: int = Field(default=365, description="CloudWatch Logs retention")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource")
    cost_centre: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/=+@ -]+$")] = Field(
        default="platform", description="Cost centre of the shared platform stacks (tag fmops:cost-centre); "
        "team stacks carry their team's")
    platform_assume_principal: Annotated[str | None, Field(pattern=r"^arn:aws:iam::\d{12}:(root|role/[\w+=,.@/-]+)$")] = Field(
        default=None, description="Who may assume the platform persona roles (MLOps admin, security, auditor) "
        "in every account: an SSO/federation role ARN; default: the account's own IAM principals with MFA")
    scp_target_ids: list[Annotated[str, Field(pattern=r"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32}|\d{12})$")]] = Field(
        default_factory=list,
        description="Organizations OUs/accounts the governance stack attaches the preventive SCPs to; empty: "
        "SCP documents are generated (docs/scp/) but not attached. Needs the governance account to be the "
        "management account or a delegated administrator for Organizations policies",
    )
    aws_organization_id: Annotated[str | None, Field(pattern=r"^o-[a-z0-9]{10,32}$")] = Field(
        default=None,
        description="AWS Organizations ID (mode organisation): the package mirror admits the organisation with "
        "aws:PrincipalOrgID, so adding accounts changes none of its policies; default: the config's accounts, "
        "listed one by one",
    )
    delivery: Delivery = Field(
        default=Delivery(), description="Mode organisation: the CDK pipelines that deploy the workload accounts "
        "(docs/delivery.md); single-account mode deploys with cdk deploy --all and takes no delivery settings")
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
    models: list[FoundationModel] = Field(
        default_factory=list,
        description="Models added to the FM catalog (config/fm-catalog.yaml), e.g. current Bedrock models "
        "with the id `aws bedrock list-foundation-models` shows",
    )

    @model_validator(mode="after")
    def _consistent(self) -> OrgConfig:
        _unique("accounts", "name", [a.name for a in self.accounts])
        _unique("accounts", "id", [a.id for a in self.accounts])
        _unique("teams", "name", [t.name for t in self.teams])
        self._check_mode()
        self._check_networks()
        self._check_team_accounts()
        self._check_genai()
        self._check_catalogs()
        self._check_delivery()
        return self

    def _check_catalogs(self) -> None:
        for index, team in enumerate(self.teams):
            here = ("teams", index, "catalog")
            if team.catalog != TeamCatalog() and Feature.SERVICE_CATALOG not in team.features:
                raise LocatedError(here, f"team {team.name}: catalog settings need feature service-catalog in the "
                                   "team's features")
            if team.catalog.share_from_governance and self.organisation.mode is not Mode.ORGANISATION:
                raise LocatedError(here + ("share_from_governance",), f"team {team.name}: share_from_governance needs "
                                   "mode organisation (a governance account to share from)")
            connection = team.catalog.source.connection_arn
            if connection is not None and connection.split(":")[3] != self.organisation.region:
                raise LocatedError(here + ("source", "connection_arn"), f"team {team.name}: the connection is in "
                                   f"{connection.split(':')[3]}; CodePipeline uses connections of its own Region "
                                   f"({self.organisation.region})")

    def _check_delivery(self) -> None:
        org = self.organisation
        here = ("organisation", "delivery")
        for index, team in enumerate(self.teams):
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
            governance = next(a for a in self.accounts if a.role == "governance")
            where = here + ("source", "connection_arn")
            if region != org.region:
                raise LocatedError(where, f"the connection is in {region}; the pipelines run in {org.region} and "
                                   "CodePipeline uses connections of its own Region")
            if account != governance.id:
                raise LocatedError(where, f"the connection belongs to account {account}; the pipelines run in the "
                                   f"governance account {governance.name} ({governance.id}): create the connection there")

    def _check_genai(self) -> None:
        try:
            catalog = self.catalog
        except CatalogError as error:
            raise LocatedError(("models",), str(error)) from None
        for index, team in enumerate(self.teams):
            if team.genai is not None:
                _check_team_genai(catalog, self.organisation, ("teams", index), team, team.genai)

    def _check_mode(self) -> None:
        governance = [a for a in self.accounts if a.role == "governance"]
        if self.organisation.mode is Mode.SINGLE_ACCOUNT:
            if len(self.accounts) != 1:
                raise LocatedError(("organisation", "mode"), f"mode single-account takes exactly one account, found {len(self.accounts)}")
            if self.organisation.aws_organization_id is not None:
                raise LocatedError(("organisation", "aws_organization_id"), "aws_organization_id is for mode organisation; "
                                   "a single account shares its mirror with no other account")
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

    @cached_property
    def catalog(self) -> Catalog:
        """The FM catalog with the config's ``models`` added."""
        return load_catalog(extra_models=self.models)


# Team name the platform uses for its own stacks, persona roles, boundary and pipeline.
RESERVED_TEAM_NAME = "platform"

GEOGRAPHY_REGION_PREFIX = {"us": "us-", "eu": "eu-", "apac": "ap-"}


# SageMaker names are at most 63 characters; "<org>-<team>-<endpoint>" gets "-model" for its
# inference component.
MAX_ENDPOINT_NAME = 57


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
