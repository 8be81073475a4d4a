"""A team: its accounts, features, GenAI runtime, budget, project catalog and personas."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ROLE_ARN, SLUG, Feature, LocatedError, SourceKind, Stage, Strict
from infra.config.data_lake import DataLake
from infra.config.genai import GenAi
from infra.config.matrix import load_matrix


class TeamAccounts(Strict):
    dev: str = Field(description="Name of the team's dev account")
    preprod: str | None = Field(default=None, description="Name of the team's preprod account")
    prod: str | None = Field(default=None, description="Name of the team's prod account")

    def by_stage(self) -> dict[Stage, str]:
        return {Stage(k): v for k, v in self.model_dump().items() if v is not None}


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class TeamBudget(Strict):
    """A monthly AWS Budget per team and account, on the team's cost-allocation tag."""

    monthly_usd: float = Field(gt=0, description="Monthly budget of the team in each of its accounts, USD")
    alert_emails: list[Annotated[str, Field(pattern=EMAIL)]] = Field(
        min_length=1, max_length=10, description="Who is told at 80% of actual and 100% of forecast spend")


UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class SlackChannel(Strict):
    """A Slack channel that AWS Chatbot posts the team's alarms to. The workspace must first be
    authorised once in the AWS Chatbot console of each account (a Slack OAuth step CloudFormation
    cannot do)."""

    workspace_id: Annotated[str, Field(pattern=r"^[0-9A-Z]{1,255}$")] = Field(
        description="Slack workspace (team) id, e.g. T012ABCDEFG (the Chatbot console lists it)")
    channel_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,255}$")] = Field(
        description="Slack channel id, e.g. C012ABCDEFG (channel details in Slack)")


class TeamsChannel(Strict):
    """A Microsoft Teams channel that AWS Chatbot posts the team's alarms to. The Teams tenant
    must first be authorised once in the AWS Chatbot console of each account."""

    tenant_id: Annotated[str, Field(pattern=UUID)] = Field(description="Microsoft Entra tenant id (a UUID)")
    team_id: Annotated[str, Field(pattern=UUID)] = Field(description="Microsoft Teams team id (a UUID)")
    channel_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_=+/.,-]*%3[aA][A-Za-z0-9_=+/.,-]*%40[A-Za-z0-9_=+/.,-]*$")] = Field(
        description="Teams channel id, URL-encoded as in the channel's link (e.g. 19%3a...%40thread.tacv2)")


class TeamAlarms(Strict):
    """Who receives the team's CloudWatch alarms (FM endpoints, hosted projects): subscribers of
    the team's alarm topic in each of its accounts. E-mail and chat take alarm text (alarm name,
    metric, threshold, state) out of AWS: the internet-free report lists each subscription as the
    config's exception."""

    emails: list[Annotated[str, Field(pattern=EMAIL)]] = Field(
        default_factory=list, max_length=10,
        description="E-mail addresses subscribed to the topic (each confirms the subscription once per account)")
    slack: list[SlackChannel] = Field(default_factory=list, max_length=5,
                                      description="Slack channels, through AWS Chatbot")
    teams: list[TeamsChannel] = Field(default_factory=list, max_length=5,
                                      description="Microsoft Teams channels, through AWS Chatbot")

    @model_validator(mode="after")
    def _someone(self) -> TeamAlarms:
        if not (self.emails or self.slack or self.teams):
            raise LocatedError(("emails",), "alarms lists no subscriber: give emails, slack or teams (or remove "
                               "alarms to send them to budget.alert_emails)")
        for field, values in (("emails", self.emails), ("slack", self.slack), ("teams", self.teams)):
            if len({str(v) for v in values}) != len(values):
                raise LocatedError((field,), f"{field} has duplicates")
        return self


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


PROJECT_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$"
"""SageMaker's project name rule (CreateProject ProjectName): 1-32 letters, digits and single hyphens."""


class DeclaredProject(Strict):
    """A SageMaker project that CloudFormation creates and owns (``AWS::SageMaker::Project`` in the
    team's ``-projects`` stack of the stage's account), from one of the team's templates, on the
    team's project path: its Service Catalog product (catalog) or its S3 template with the team's
    project role (project). Every property is fixed at creation: to change one, declare the project
    under another name (platform guide, Projects declared in the config)."""

    name: Annotated[str, Field(pattern=PROJECT_NAME, max_length=32)] = Field(
        description="SageMaker project name (1-32 letters, digits or single hyphens), unique in the account; "
        "also the template's SageMakerProjectName")
    template: str = Field(description="Registry id of a template the team is offered in the stage's account "
                          "(e.g. genai-app; templates/registry.py)")
    stage: Stage = Field(default=Stage.DEV, description="The team's account the project lives in (default dev)")
    project_tag: Annotated[str | None, Field(pattern=SLUG)] = Field(
        default=None, description="Value of the fmops:project tag, one of catalog.projects; default: the project "
        "name when it is one of them, else the only allowed value")
    description: Annotated[str | None, Field(max_length=1024)] = Field(
        default=None, description="Project description shown in Studio; default: the template's name and version")
    parameters: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,255}$")],
                     Annotated[str, Field(max_length=4096)]] = Field(
        default_factory=dict, description="The template's launch choices (e.g. BranchName), as `fmops provision "
        "--param`; checked against the template's parameters when the app is synthesized")

    @field_validator("parameters")
    @classmethod
    def _not_sagemakers(cls, value: dict[str, str]) -> dict[str, str]:
        for key in ("SageMakerProjectName", "SageMakerProjectId"):
            if key in value:
                raise ValueError(f"{key} is set by SageMaker when it creates the project (the name is name); "
                                 f"remove it from parameters")
        return value


class TeamCatalog(Strict):
    """The team's Service Catalog portfolio of project templates (needs feature service-catalog)."""

    projects: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list, max_length=50,
        description="Allowed values of the fmops:project TagOption (cost allocation per project); default: the team name")
    source: ProjectSource = ProjectSource()
    project_path: Literal["catalog", "project"] = Field(
        default="catalog", description="How Studio and `fmops provision` create the team's SageMaker projects: "
        "catalog: from Service Catalog products (the portfolio, a launch role trusted by Service Catalog); "
        "project: without Service Catalog, from each template's S3 URL with the team's project role "
        "(template-provider projects, `fmops provision --via project`); there the launcher names the template "
        "URL, so the project role, held to the team's names, tag, path and boundary, is the limit "
        "(platform guide, SageMaker projects without Service Catalog)")
    share_from_governance: bool = Field(
        default=False, description="Publish the team's products once, in the governance account, and share the "
        "portfolio with the team's workload accounts (mode organisation)")
    declared_projects: list[DeclaredProject] = Field(
        default_factory=list, max_length=50,
        description="SageMaker projects created by CloudFormation from the team's templates (the team's -projects "
        "stack in each stage's account), owned by CloudFormation: change or remove them here, not with "
        "`fmops provision` or Studio")
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
    alarms: TeamAlarms | None = Field(
        default=None, description="Who receives the team's CloudWatch alarms and project notifications (model "
        "approvals, promoted models, dead letters); default: budget.alert_emails. Required for a team with feature "
        "hosting or service-catalog and no budget (its alarms would reach no one)")
    catalog: TeamCatalog = Field(default=TeamCatalog(), description="Project templates offered to the team "
                                 "(Service Catalog portfolio); needs feature service-catalog")
    data_lake: DataLake = Field(default=DataLake(), description="The team's governed data lake (Glue Data Catalog, "
                                "Lake Formation tags and grants, Athena); needs feature data-lake")
    personas: list[str] | None = Field(
        default=None, description="Team personas that get a role (infra/personas/matrix.yaml); default: all of them")
    assume_principal: Annotated[str | None, Field(pattern=ROLE_ARN)] = Field(
        default=None, description="Who may assume the team's persona roles: an SSO/federation role ARN; "
        "default: the account's own IAM principals with MFA")

    @field_validator("personas")
    @classmethod
    def _known_personas(cls, value: list[str] | None) -> list[str] | None:
        allowed = load_matrix().team_personas()
        for persona in value or []:
            if persona not in allowed:
                raise ValueError(f"unknown team persona {persona!r}; allowed: {', '.join(allowed)}")
        return value

    @property
    def has_data_lake(self) -> bool:
        return Feature.DATA_LAKE in self.features

    @property
    def has_alarm_topic(self) -> bool:
        """The team has an alarm topic in each of its accounts: it raises alarms (feature hosting:
        FM endpoints, the fm-hosting template), its projects and promotions notify (feature
        service-catalog: model approvals, arrivals, dead letters) or it lists alarm subscribers."""
        return bool({Feature.HOSTING, Feature.SERVICE_CATALOG} & set(self.features)) or self.alarms is not None

    @property
    def alarms_chosen_in(self) -> str:
        """The config field the alarm topic's subscribers come from."""
        return f"team {self.name}'s " + ("alarms" if self.alarms is not None else "budget.alert_emails")

    @property
    def alarm_emails(self) -> list[str]:
        """E-mail subscribers of the team's alarm topic: ``alarms.emails``, else the budget's."""
        if self.alarms is not None:
            return list(self.alarms.emails)
        return list(self.budget.alert_emails) if self.budget is not None else []

    def persona_names(self) -> list[str]:
        return self.personas if self.personas is not None else load_matrix().team_personas()
