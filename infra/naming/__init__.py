"""Every deterministic name of the app: stacks, roles, policies, buckets, ARN patterns, tag keys and
SSM prefixes.

Names are deterministic so that one stack (or a product template, or a tool) refers to what another
creates without a cross-stack reference: the team stack creates ``<org>-<team>-boundary``, and the
catalog, Studio and endpoint stacks, the product templates and the SCP documents all name it from
here. This module is the only place such a pattern is written; it depends on nothing but strings,
so the stacks, the callers of the constructs, the tools and the tests share it.

ARN helpers take the partition and account as arguments because callers put different things
there: a literal (``aws``, an account id), a CDK token (``stack.partition``) or a CloudFormation
``Fn::Sub`` variable (``${AWS::Partition}``, ``${AWS::AccountId}``).
"""

from __future__ import annotations

import hashlib

# -- tag keys -------------------------------------------------------------------------------------
TAG_ORGANISATION = "fmops:organisation"
TAG_TEAM = "fmops:team"
TAG_COST_CENTRE = "fmops:cost-centre"
TAG_PROJECT = "fmops:project"
TAG_TEMPLATE = "fmops:template"
TAG_PERSONA = "fmops:persona"
TAG_TEMPLATE_VERSION = "fmops:template-version"
STUDIO_VISIBILITY_TAG = ("sagemaker:studio-visibility", "true")

MAX_ROLE_NAME = 64  # IAM's limit on role names
MAX_BUCKET_NAME = 63  # S3's limit on bucket names
SUB_PARTITION, SUB_REGION, SUB_ACCOUNT = "${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}"


# -- stacks ---------------------------------------------------------------------------------------
def stack_name(organisation: str, *parts: str) -> str:
    """``<org>-<part>-...``: the stack name, and its construct id."""
    return "-".join((organisation, *parts))


# -- IAM --------------------------------------------------------------------------------------------
def persona_role_name(organisation: str, team: str, persona: str) -> str:
    """A team persona's role, created by the team stack; other stacks attach policies by name."""
    return f"{organisation}-{team}-{persona}"


STUDIO_ROLE_SUFFIX = "-studio"


def studio_role_name(organisation: str, team: str, persona: str) -> str:
    """Execution role of the Studio user profile ``<team>-<persona>``: ``<org>-<team>-<persona>-studio``,
    or, beyond IAM's 64 characters, its first 55 characters and a hash of the whole (still
    deterministic, still unique)."""
    name = f"{organisation}-{team}-{persona}{STUDIO_ROLE_SUFFIX}"
    if len(name) <= MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_ROLE_NAME - len(digest) - 1]}-{digest}"


def studio_user_profile_name(team: str, persona: str) -> str:
    return f"{team}-{persona}"


def boundary_name(organisation: str, team: str) -> str:
    """The permission boundary of a team (or of ``platform``), created by the team (platform) stack."""
    return f"{organisation}-{team}-boundary"


def launch_boundary_name(organisation: str, team: str) -> str:
    """The boundary of the team's Service Catalog launch role (created by the team stack): under
    it, roles can only be created with the team's boundary."""
    return f"{organisation}-{team}-launch-boundary"


def policy_arn(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:policy/{name}"


def role_arn(partition: str, account: str, name: str, path: str = "/") -> str:
    return f"arn:{partition}:iam::{account}:role{path}{name}"


def boundary_arn(partition: str, account: str, organisation: str, team: str) -> str:
    return policy_arn(partition, account, boundary_name(organisation, team))


def project_role_path(organisation: str, team: str) -> str:
    """IAM path of every role and policy that the team's projects create."""
    return f"/{organisation}/projects/{team}/"


def catalog_launch_role_name(organisation: str, team: str) -> str:
    """The Service Catalog launch role of the team's portfolio, in every account it launches in."""
    return f"{organisation}-{team}-catalog-launch"


def project_launch_role_name(organisation: str, team: str) -> str:
    """The CloudFormation role of the team's SageMaker template-provider projects (catalog.project_path
    project), in every account of the team."""
    return f"{organisation}-{team}-project-launch"


def catalog_end_user_policy_name(organisation: str, team: str) -> str:
    return f"{organisation}-{team}-catalog-end-user"


def guarded_invoke_policy_name(organisation: str, team: str) -> str:
    """The GenAI stack's policy: invoke the team's models only through its published guardrail."""
    return f"{organisation}-{team}-guarded-invoke"


def promotion_role_name(organisation: str, team: str) -> str:
    """The model promotion sender's role in every account of the team that has a next stage."""
    return f"{organisation}-{team}-model-promotion"


def import_role_name(organisation: str, team: str) -> str:
    return f"{organisation}-{team}-model-import"


def lake_registration_role_name(organisation: str, team: str) -> str:
    """The role Lake Formation uses for the team's registered location (lake/ of its bucket)."""
    return f"{organisation}-{team}-lake-registration"


def team_data_key_alias(organisation: str, team: str) -> str:
    """The alias of the team's data key (the team stack's), for stacks that name it."""
    return f"alias/{organisation}/{team}/data"


def etl_role_name(organisation: str, team: str) -> str:
    """The role the team's Glue jobs and crawlers run as (the data engineer passes it to Glue)."""
    return f"{organisation}-{team}-etl"


def etl_name(organisation: str, team: str) -> str:
    """The team's Glue connection, Glue security configuration and Athena workgroup."""
    return f"{organisation}-{team}"


def endpoint_name(organisation: str, team: str, endpoint: str) -> str:
    """A team's FM endpoint: unique in the account, at most 57 characters (config validation)."""
    return f"{organisation}-{team}-{endpoint}"


def endpoint_role_name(endpoint: str) -> str:
    """The execution role of endpoint ``endpoint``, known before the role exists (bucket policies)."""
    return f"{endpoint}-exec"


CDK_QUALIFIER = "hnb659fds"
"""The CDK bootstrap qualifier (CDK's default), part of the bootstrap role names."""


def bootstrap_role_arn(account_id: str, region: str, kind: str) -> str:
    """A CDK bootstrap role (``deploy``, ``file-publishing``, ``lookup``...) of an account."""
    return f"arn:aws:iam::{account_id}:role/cdk-{CDK_QUALIFIER}-{kind}-role-{account_id}-{region}"


def delivery_role_path(organisation: str) -> str:
    """IAM path of the delivery pipelines' roles: the delivery bucket admits every role below it."""
    return f"/{organisation}/delivery/"


# -- S3 ---------------------------------------------------------------------------------------------
def team_bucket_name(organisation: str, team: str, account: str, region: str) -> str:
    """The team's data bucket in one account, created by the team stack."""
    return f"{organisation}-{team}-data-{account}-{region}"


def access_log_bucket_name(organisation: str, account: str, region: str) -> str:
    """The account's S3 access-log bucket, created by the platform stack."""
    return f"{organisation}-access-logs-{account}-{region}"


def log_archive_bucket_name(organisation: str, account: str, region: str) -> str:
    """The organisation's log archive (CloudTrail and AWS Config), in the governance account (or the only one)."""
    return f"{organisation}-log-archive-{account}-{region}"


def delivery_bucket_name(organisation: str, account: str, region: str) -> str:
    """The bucket the delivery pipelines' ``s3`` source reads the repository zip from."""
    return f"{organisation}-delivery-{account}-{region}"


def promoted_models_bucket_name(organisation: str, team: str, account: str, region: str) -> str:
    """Where the next stage receives the team's approved models; at most 63 characters (checked
    when account and region are literal: a ``${AWS::...}`` placeholder's length says nothing)."""
    name = f"{organisation}-{team}-models-{account}-{region}"
    if "${" not in name and len(name) > MAX_BUCKET_NAME:
        raise ValueError(f"bucket name {name} is longer than S3's {MAX_BUCKET_NAME} characters: shorten the "
                         "organisation or team name")
    return name


# -- audit trail -------------------------------------------------------------------------------------
def trail_name(organisation: str) -> str:
    """The organisation's CloudTrail trail."""
    return f"{organisation}-audit"


def log_archive_key_alias(organisation: str) -> str:
    """The log archive's KMS key: the recorders of other accounts name it by this alias."""
    return f"alias/{organisation}/log-archive"


def config_recorder_role_name(organisation: str) -> str:
    """The role AWS Config records and delivers with, in every account (the log archive admits it by name)."""
    return f"{organisation}-config-recorder"


def alarm_topic_name(organisation: str, team: str) -> str:
    """The team's alarm topic in each of its accounts (every alarm of the team publishes to it)."""
    return f"{organisation}-{team}-alarms"


# -- SSM parameters and log groups ------------------------------------------------------------------
def catalog_parameter_prefix(organisation: str, team: str) -> str:
    """SSM prefix of the values that the team's product templates read (written by its catalog stack)."""
    return f"/{organisation}/catalog/{team}"


def project_template_parameter(organisation: str, team: str, template_id: str | None = None) -> str:
    """SSM parameter of a SageMaker project template of the team (catalog.project_path project):
    its URL, version and project role, as JSON; without ``template_id``, their common path."""
    path = f"{catalog_parameter_prefix(organisation, team)}/project-template"
    return path if template_id is None else f"{path}/{template_id}"


def declared_project_parameter(organisation: str, team: str, template_id: str, key: str) -> str:
    """SSM parameter the team's catalog stack writes for its config-declared projects of a template
    (``key``: ``template-url`` on the project path; ``product-id``, ``artifact-id`` on the catalog
    path), read by the team's projects stack as a dynamic reference."""
    return f"{catalog_parameter_prefix(organisation, team)}/declared/{template_id}/{key}"


def seed_key_parameter(template_id: str) -> str:
    """Key (below the catalog prefix) of the parameter naming a template's seed bundle object."""
    return f"seed/{template_id}"


def guardrail_parameter(organisation: str, team: str, kind: str) -> str:
    """SSM parameter of the team's guardrail: ``kind`` is ``arn`` or ``version``."""
    return f"/{organisation}/genai/{team}/guardrail-{kind}"


def inference_profile_parameter(organisation: str, team: str, model_slug: str) -> str:
    """SSM parameter holding the ARN of the team's application inference profile of one model:
    callers pass that ARN as ``modelId`` (the profile's id is generated by Bedrock)."""
    return f"/{organisation}/genai/{team}/inference-profile/{model_slug}"


def inference_profile_name(organisation: str, team: str, model_slug: str) -> str:
    """Name of the team's application inference profile of one model (unique per account and Region)."""
    return f"{organisation}-{team}-{model_slug}"[:64]


def enforced_guardrail_parameter(organisation: str, kind: str) -> str:
    """SSM parameter of the account's enforced guardrail: ``kind`` is ``arn`` or ``version``."""
    return f"/{organisation}/genai/enforced-guardrail-{kind}"


def log_prefix(organisation: str, team: str | None = None) -> str:
    """Log group prefix of the organisation (platform logs) or of one team."""
    return f"/{organisation}/" if team is None else f"/{organisation}/{team}/"


def bedrock_invocation_log_group(organisation: str) -> str:
    return f"/{organisation}/bedrock/model-invocations"


# -- experiment tracking (SageMaker managed MLflow) ---------------------------------------------
MLFLOW_PREFIX = "mlflow"
"""The key prefix of the team bucket that holds the team's MLflow artifacts."""


def mlflow_tracking_server_name(organisation: str, team: str) -> str:
    """The team's MLflow tracking server in one account (stage): ``<org>-<team>``."""
    return f"{organisation}-{team}"


def mlflow_role_name(organisation: str, team: str) -> str:
    """The role the team's tracking server uses for its artifact store."""
    return f"{organisation}-{team}-mlflow"


def mlflow_parameter(organisation: str, team: str) -> str:
    """SSM parameter holding the ARN of the team's tracking server (the seed code's tracking URI)."""
    return f"/{organisation}/mlflow/{team}/tracking-server-arn"
