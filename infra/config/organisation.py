"""The organisation and the whole config: accounts, delivery settings, and ``OrgConfig``.

``OrgConfig`` is what ``load_config`` returns. Its cross-field rules are in ``validators.py``;
the views the stacks read (``teams_in``, ``features_of``, ``catalog``) are defined here.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from typing import Annotated, Any, Literal

import boto3
from pydantic import Field, field_validator, model_validator

from infra.config.base import (ROLE_ARN, S3_KEY_SEGMENT, SLUG, Feature, LocatedError, Mode, SourceKind, Stage, Strict,
                              check_git_branch, check_key_segments)
from infra.config.fm_catalog import Catalog, FoundationModel, load_catalog
from infra.config.genai import GuardrailSettings
from infra.config.network import Network
from infra.config.team import CONNECTION_ARN, Team
from infra.config.validators import check_config

ACCOUNT_ID = re.compile(r"^\d{12}$")
# A domain of a Route 53 Resolver DNS Firewall domain list: labels of 1-63 letters, digits and
# hyphens (not at either end), at most 253 characters without the trailing dot (RFC 1035), and a
# wildcard only as the leading label '*.' (DNS Firewall accepts no other). A wildcard needs at
# least two labels after it: '*.com' would let every name of a top-level domain through.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = rf"^(?:\*\.{_LABEL}\.{_LABEL}(?:\.{_LABEL})*|{_LABEL}(?:\.{_LABEL})*)\.?$"
MAX_DOMAIN = 253
# CloudWatch Logs accepts only these retention values (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


@cache
def _sagemaker_regions() -> frozenset[str]:
    """Commercial regions where SageMaker exists, from botocore's bundled endpoint data (offline)."""
    return frozenset(boto3.session.Session().get_available_regions("sagemaker"))


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
    object_key: Annotated[str | None, Field(max_length=1024, pattern=rf"^(?:{S3_KEY_SEGMENT}/)*{S3_KEY_SEGMENT}\.zip$")] = Field(
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

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str | None) -> str | None:
        return None if value is None else check_git_branch(value)

    @field_validator("object_key")
    @classmethod
    def _object_key(cls, value: str | None) -> str | None:
        return None if value is None else check_key_segments(value)

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
            if not re.fullmatch(r"(?!\.\.?/)[A-Za-z0-9_.-]+/(?!\.\.?$)[A-Za-z0-9_.-]+", self.repository or ""):
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


class Audit(Strict):
    """The organisation's audit trail (docs/security-model.md#audit-trail): a CloudTrail trail (an
    organisation trail from the governance account in mode organisation, an account trail in
    single-account mode) into a KMS-encrypted, Object-Lock log archive, and an AWS Config recorder
    with managed rules in every account."""

    trail: bool = Field(default=True, description="Create the trail and its log archive; false when the "
                        "organisation already has one (e.g. AWS Control Tower's), whose data events you then "
                        "extend by hand")
    config_recorder: bool = Field(default=True, description="Create an AWS Config recorder, delivery channel and "
                                  "the managed rules in every account; false when the accounts already have a "
                                  "recorder (an account has at most one per Region, e.g. AWS Control Tower's)")
    retention_days: int = Field(default=365, ge=1, le=36500, description="Object Lock retention of every object "
                                "in the log archive, and when the archive expires it")
    lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE", description="Object Lock mode: GOVERNANCE (only a principal with "
        "s3:BypassGovernanceRetention, which no persona has, may shorten it) or COMPLIANCE (no one, not even the "
        "account root, may shorten it or delete the objects before the retention ends)")


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
    platform_assume_principal: Annotated[str | None, Field(pattern=ROLE_ARN)] = Field(
        default=None, description="Who may assume the platform persona roles (MLOps admin, security, auditor) "
        "in every account: an SSO/federation role ARN; default: the account's own IAM principals with MFA")
    scp_target_ids: list[Annotated[str, Field(pattern=r"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32}|\d{12})$")]] = Field(
        default_factory=list,
        description="Organizations OUs/accounts the governance stack attaches the preventive SCPs to (mode "
        "organisation creates the SCPs in any case); empty: the SCPs exist but are attached to nothing and "
        "`fmops validate` warns. The governance account must be the management account or a delegated "
        "administrator for Organizations policies",
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
    audit: Audit = Field(default=Audit(), description="The audit trail: CloudTrail trail, log archive and "
                         "AWS Config (docs/security-model.md#audit-trail)")
    enforced_guardrail: GuardrailSettings = Field(
        default=GuardrailSettings(
            blocked_input_message="This request is not allowed by the organisation's AI usage policy.",
            blocked_output_message="The response was withheld by the organisation's AI usage policy."),
        description="The account-level guardrail of every workload account that uses Bedrock "
        "(AWS::Bedrock::EnforcedGuardrailConfiguration): Bedrock applies it to every model call of the account, "
        "on the whole prompt and system prompt whatever guard-content tags the caller sets, on top of the team "
        "guardrail that IAM requires in the call (docs/security-model.md#guardrails)")
    dns_allowed_domains: list[Annotated[str, Field(pattern=DOMAIN)]] = Field(
        default_factory=list,
        description="Domains the VPCs may resolve besides AWS service names (e.g. '*.corp.example.com'); "
        "every other DNS query is blocked by the DNS firewall. A wildcard is allowed only as a leading '*.' "
        "(Route 53 Resolver DNS Firewall domain lists), and not for a whole top-level domain",
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        regions = _sagemaker_regions()
        if value not in regions:
            raise ValueError(f"unknown region {value!r}; SageMaker regions are: {', '.join(sorted(regions))}")
        return value

    @field_validator("dns_allowed_domains")
    @classmethod
    def _domain_lengths(cls, value: list[str]) -> list[str]:
        for domain in value:
            if len(domain.removesuffix(".")) > MAX_DOMAIN:
                raise ValueError(f"domain {domain[:40]!r}... has {len(domain.removesuffix('.'))} characters; DNS "
                                 f"names have at most {MAX_DOMAIN}")
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
        check_config(self)
        return self

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
