"""No side doors: a probe role with ``*`` on ``*`` under each boundary of the synthesized default
organisation (team, launch, platform), with the SCPs of the workload OU in force, is refused every
side door an independent review found (issue 13), the combinations an attacker would try, and
every action the classification denies (infra/personas/actions).

The boundaries are read from the synthesized templates of the genai team in genai-dev, with
intrinsics resolved as a deployment would (infra/personas/workflows/principals.py); the
evaluation is the project's (infra/compliance/iam_eval.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from infra import naming
from infra.assembly import read_stacks
from infra.compliance.iam_eval import Decision, Layers, Principal, Request, evaluate, glob_match
from infra.config import DEFAULT_CONFIG, load_config
from infra.personas import classification, scp_documents
from infra.personas.scp import organisation_model_arns
from infra.personas.workflows.principals import account_principals

ACCOUNT, REGION, ORG, TEAM = "333333333331", "eu-west-1", "fmops", "genai"
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
PROJECT_PATH = naming.project_role_path(ORG, TEAM)
PROBE = {"team": f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}SC-{ACCOUNT}-pp-probe-Role-PROBE",
         "launch": f"arn:aws:iam::{ACCOUNT}:role/{naming.catalog_launch_role_name(ORG, TEAM)}",
         "platform": f"arn:aws:iam::{ACCOUNT}:role/{naming.persona_role_name(ORG, 'platform', 'mlops-admin')}"}
BOUNDARY_OF = {"team": naming.persona_role_name(ORG, TEAM, "data-engineer"),
               "launch": naming.catalog_launch_role_name(ORG, TEAM),
               "platform": naming.persona_role_name(ORG, "platform", "mlops-admin")}


@pytest.fixture(scope="module")
def boundaries(default_assembly) -> dict[str, dict]:
    return _boundaries(default_assembly)


@cache
def _boundaries(assembly: Path) -> dict[str, dict]:
    principals = account_principals([s for s in read_stacks(assembly) if s.account == ACCOUNT], [])
    return {profile: principals.roles[name].layers.boundary for profile, name in BOUNDARY_OF.items()}


def _scp_levels() -> list[list[dict]]:
    return [[FULL_ACCESS], [FULL_ACCESS, *scp_documents(organisation_model_arns(load_config(DEFAULT_CONFIG))).values()]]


def _probe(boundaries: dict, profile: str, action: str, resource: str = "*", context: dict | None = None,
           *, scps: bool = True, tags: dict | None = None) -> Decision:
    layers = Layers([FULL_ACCESS], boundaries[profile], _scp_levels() if scps else [])
    full = {"aws:SecureTransport": True, **{f"aws:PrincipalTag/{k}": v for k, v in (tags or {}).items()},
            **(context or {})}
    return evaluate(layers, Request(action, resource, full), Principal(PROBE[profile], ACCOUNT))


def arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


GUARDRAIL = arn("bedrock", "guardrail/gr0team1")
MODEL = arn("bedrock", "inference-profile/eu.amazon.nova-pro-v1:0")
UNLISTED = arn("bedrock", "inference-profile/eu.meta.llama3-2-90b-instruct-v1:0")
INVOCATION_LOGS = arn("logs", f"log-group:{naming.bedrock_invocation_log_group(ORG)}")
FLOW_LOGS = arn("logs", f"log-group:/{ORG}/vpc-flow-logs/genai-dev")
ARCHIVE = f"arn:aws:s3:::{naming.log_archive_bucket_name(ORG, '111111111111', REGION)}"
ACCESS_LOGS = f"arn:aws:s3:::{naming.access_log_bucket_name(ORG, ACCOUNT, REGION)}"
PERSONA_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{naming.persona_role_name(ORG, TEAM, 'lead-data-scientist')}"
PERSONA_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/{naming.persona_role_name(ORG, TEAM, 'lead-data-scientist')}"
LAUNCH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{naming.catalog_launch_role_name(ORG, TEAM)}"
TEAM_BOUNDARY = naming.boundary_arn("aws", ACCOUNT, ORG, TEAM)
LAUNCH_BOUNDARY = naming.policy_arn("aws", ACCOUNT, naming.launch_boundary_name(ORG, TEAM))
CDK_EXEC_ROLE = naming.bootstrap_role_arn(ACCOUNT, REGION, "cfn-exec")
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
VPC = {"sagemaker:VpcSubnets": ["subnet-0123456789abcdef0"], "sagemaker:VpcSecurityGroupIds": ["sg-0123456789abcdef0"],
       "sagemaker:VolumeKmsKey": arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")}
GUARDED = {"bedrock:GuardrailIdentifier": f"{GUARDRAIL}:1"}

# The side doors of issue 13, each as the request that opens it: (name, action, resource, context).
SIDE_DOORS = [
    # Bedrock without the team guardrail, or outside the allow-list
    ("batch inference", "bedrock:CreateModelInvocationJob", arn("bedrock", "model-invocation-job/x"), {}),
    ("agent", "bedrock:InvokeAgent", arn("bedrock", "agent-alias/A/B"), {}),
    ("inline agent", "bedrock:InvokeInlineAgent", "*", {}),
    ("flow", "bedrock:InvokeFlow", arn("bedrock", "flow/F/alias/A"), {}),
    ("retrieve and generate", "bedrock:RetrieveAndGenerate", "*", {}),
    ("retrieve", "bedrock:Retrieve", arn("bedrock", "knowledge-base/K"), {}),
    ("model customization", "bedrock:CreateModelCustomizationJob", arn("bedrock", "model-customization-job/x"), {}),
    ("evaluation job", "bedrock:CreateEvaluationJob", arn("bedrock", "evaluation-job/x"), {}),
    ("model import", "bedrock:CreateModelImportJob", arn("bedrock", "model-import-job/x"), {}),
    ("provisioned throughput", "bedrock:CreateProvisionedModelThroughput", "*", {}),
    ("invoke without guardrail", "bedrock:InvokeModel", MODEL, {}),
    ("invoke an unlisted model", "bedrock:InvokeModel", UNLISTED, GUARDED),
    ("converse stream without guardrail", "bedrock:InvokeModelWithResponseStream", MODEL, {}),
    # invocation logging and the audit trail
    ("delete invocation logging", "bedrock:DeleteModelInvocationLoggingConfiguration", "*", {}),
    ("replace invocation logging", "bedrock:PutModelInvocationLoggingConfiguration", "*", {}),
    ("delete the invocation log group", "logs:DeleteLogGroup", INVOCATION_LOGS, {}),
    ("shorten its retention", "logs:PutRetentionPolicy", INVOCATION_LOGS, {}),
    ("drop its retention", "logs:DeleteRetentionPolicy", INVOCATION_LOGS, {}),
    ("detach its key", "logs:DisassociateKmsKey", INVOCATION_LOGS, {}),
    ("subscribe it elsewhere", "logs:PutSubscriptionFilter", INVOCATION_LOGS, {}),
    ("delete the flow logs", "logs:DeleteLogGroup", FLOW_LOGS, {}),
    ("shorten flow-log retention", "logs:PutRetentionPolicy", FLOW_LOGS, {}),
    ("delete flow logs", "ec2:DeleteFlowLogs", arn("ec2", "vpc-flow-log/fl-1"), {}),
    ("stop the trail", "cloudtrail:StopLogging", arn("cloudtrail", "trail/fmops-audit"), {}),
    ("delete the trail", "cloudtrail:DeleteTrail", arn("cloudtrail", "trail/fmops-audit"), {}),
    ("narrow the trail", "cloudtrail:PutEventSelectors", arn("cloudtrail", "trail/fmops-audit"), {}),
    ("update the trail", "cloudtrail:UpdateTrail", arn("cloudtrail", "trail/fmops-audit"), {}),
    ("stop the recorder", "config:StopConfigurationRecorder", "*", {}),
    ("delete the recorder", "config:DeleteConfigurationRecorder", "*", {}),
    ("delete the delivery channel", "config:DeleteDeliveryChannel", "*", {}),
    ("delete a config rule", "config:DeleteConfigRule", arn("config", "config-rule/x"), {}),
    ("delete archived logs", "s3:DeleteObject", f"{ARCHIVE}/AWSLogs/x.json.gz", {}),
    ("expire archived logs", "s3:PutLifecycleConfiguration", ARCHIVE, {}),
    ("rewrite the archive policy", "s3:PutBucketPolicy", ARCHIVE, {}),
    ("lift the archive's lock", "s3:BypassGovernanceRetention", f"{ARCHIVE}/AWSLogs/x.json.gz", {}),
    ("delete access logs", "s3:DeleteObject", f"{ACCESS_LOGS}/genai/data/x", {}),
    ("overwrite access logs", "s3:PutObject", f"{ACCESS_LOGS}/genai/data/x", {}),
    ("delete the archive key", "kms:ScheduleKeyDeletion", arn("kms", "key/archive", account="111111111111"), {}),
    ("disable a key", "kms:DisableKey", arn("kms", "key/x"), {}),
    ("rewrite a key policy", "kms:PutKeyPolicy", arn("kms", "key/x"), {}),
    ("grant a key to anyone", "kms:CreateGrant", arn("kms", "key/x"), {"kms:GrantIsForAWSResource": "false"}),
    # SageMaker work outside the VPC
    ("AutoML", "sagemaker:CreateAutoMLJob", arn("sagemaker", "automl-job/x"), VPC),
    ("AutoML v2", "sagemaker:CreateAutoMLJobV2", arn("sagemaker", "automl-job/x"), VPC),
    ("compilation", "sagemaker:CreateCompilationJob", arn("sagemaker", "compilation-job/x"), VPC),
    ("optimization", "sagemaker:CreateOptimizationJob", arn("sagemaker", "optimization-job/x"), VPC),
    ("transform", "sagemaker:CreateTransformJob", arn("sagemaker", "transform-job/x"), VPC),
    ("inference recommendation", "sagemaker:CreateInferenceRecommendationsJob",
     arn("sagemaker", "inference-recommendations-job/x"), VPC),
    ("HyperPod cluster", "sagemaker:CreateCluster", arn("sagemaker", "cluster/x"), VPC),
    ("HyperPod update", "sagemaker:UpdateCluster", arn("sagemaker", "cluster/x"), VPC),
    ("MLflow server", "sagemaker:CreateMlflowTrackingServer", arn("sagemaker", "mlflow-tracking-server/x"), {}),
    ("training without VPC", "sagemaker:CreateTrainingJob", arn("sagemaker", "training-job/genai-x"),
     {"sagemaker:VolumeKmsKey": VPC["sagemaker:VolumeKmsKey"]}),
    ("training without KMS", "sagemaker:CreateTrainingJob", arn("sagemaker", "training-job/genai-x"),
     {k: v for k, v in VPC.items() if k != "sagemaker:VolumeKmsKey"}),
    ("model outside the VPC (then UpdateEndpoint to it)", "sagemaker:CreateModel", arn("sagemaker", "model/genai-x"),
     {}),
    ("notebook with internet", "sagemaker:CreateNotebookInstance", arn("sagemaker", "notebook-instance/x"),
     {**VPC, "sagemaker:DirectInternetAccess": "Enabled", "sagemaker:RootAccess": "Disabled"}),
    ("public domain", "sagemaker:CreateDomain", arn("sagemaker", "domain/x"),
     {"sagemaker:AppNetworkAccessType": "PublicInternetOnly"}),
    # Studio identity
    ("change a profile's execution role", "sagemaker:UpdateUserProfile",
     arn("sagemaker", "user-profile/d-example/genai-lead-data-scientist"), {}),
    ("open another profile", "sagemaker:CreatePresignedDomainUrl",
     arn("sagemaker", "user-profile/d-example/genai-lead-data-scientist"), {}),
    ("custom Studio image", "sagemaker:CreateImage", arn("sagemaker", "image/x"), {}),
    # IAM
    ("inline policy on a persona role", "iam:PutRolePolicy", PERSONA_ROLE, {}),
    ("trust of the launch role", "iam:UpdateAssumeRolePolicy", LAUNCH_ROLE, {}),
    ("new default version of a persona policy", "iam:CreatePolicyVersion", PERSONA_POLICY, {}),
    ("AdministratorAccess on a persona role", "iam:AttachRolePolicy", PERSONA_ROLE, {"iam:PolicyARN": ADMIN}),
    ("pass the deployment role", "iam:PassRole", CDK_EXEC_ROLE, {"iam:PassedToService": "cloudformation.amazonaws.com"}),
    ("pass the recorder role", "iam:PassRole", naming.role_arn("aws", ACCOUNT, naming.config_recorder_role_name(ORG)),
     {"iam:PassedToService": "lambda.amazonaws.com"}),
    ("assume any role", "sts:AssumeRole", CDK_EXEC_ROLE, {}),
    ("federate", "sts:GetFederationToken", "*", {}),
    ("an IAM user", "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x", {}),
    ("an access key", "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/x", {}),
    ("edit the team boundary", "iam:CreatePolicyVersion", TEAM_BOUNDARY, {}),
    ("edit the launch boundary", "iam:CreatePolicyVersion", LAUNCH_BOUNDARY, {}),
    ("switch the boundary's version", "iam:SetDefaultPolicyVersion", TEAM_BOUNDARY, {}),
    ("remove a boundary", "iam:DeleteRolePermissionsBoundary", PERSONA_ROLE, {}),
    ("replace a boundary", "iam:PutRolePermissionsBoundary", PERSONA_ROLE, {"iam:PermissionsBoundary": ADMIN}),
    ("a role without boundary", "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}x", {}),
    ("a persona-tagged role", "iam:TagRole", f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}x",
     {"aws:TagKeys": ["fmops:persona"], "aws:RequestTag/fmops:persona": "lead-data-scientist"}),
    # exposure and supply chain
    ("public Lambda permission", "lambda:AddPermission", arn("lambda", "function:genai-x"), {"lambda:Principal": "*"}),
    ("function URL", "lambda:CreateFunctionUrlConfig", arn("lambda", "function:genai-x"),
     {"lambda:FunctionUrlAuthType": "NONE"}),
    ("API change", "apigateway:PATCH", f"arn:aws:apigateway:{REGION}::/restapis/abc", {}),
    ("API policy", "apigateway:UpdateRestApiPolicy", f"arn:aws:apigateway:{REGION}::/restapis/abc", {}),
    ("bucket policy", "s3:PutBucketPolicy", f"arn:aws:s3:::{naming.team_bucket_name(ORG, TEAM, ACCOUNT, REGION)}", {}),
    ("bucket public access", "s3:PutBucketPublicAccessBlock",
     f"arn:aws:s3:::{naming.team_bucket_name(ORG, TEAM, ACCOUNT, REGION)}", {}),
    ("replicate a bucket away", "s3:PutReplicationConfiguration",
     f"arn:aws:s3:::{naming.team_bucket_name(ORG, TEAM, ACCOUNT, REGION)}", {}),
    ("push an image to the mirror", "ecr:PutImage", arn("ecr", "repository/fmops/x", account="111111111111"), {}),
    ("upload image layers", "ecr:InitiateLayerUpload", arn("ecr", "repository/fmops/x", account="111111111111"), {}),
    ("open a repository", "ecr:SetRepositoryPolicy", arn("ecr", "repository/fmops/x", account="111111111111"), {}),
    ("publish a package", "codeartifact:PublishPackageVersion",
     arn("codeartifact", "package/fmops/pypi/pypi//x", account="111111111111"), {}),
    ("package metadata", "codeartifact:PutPackageMetadata",
     arn("codeartifact", "package/fmops/pypi/pypi//x", account="111111111111"), {}),
    ("share a topic", "sns:AddPermission", arn("sns", "genai-x"), {}),
    ("cross-account event bus", "events:PutPermission", arn("events", "event-bus/default"), {}),
    ("new product in the catalog", "servicecatalog:CreateProvisioningArtifact", arn("catalog", "product/prod-x"), {}),
    ("new launch constraint", "servicecatalog:CreateConstraint", "*", {}),
    ("run commands on instances", "ssm:SendCommand", "*", {}),
    ("new VPC route", "ec2:CreateRoute", arn("ec2", "route-table/rtb-1"), {}),
    ("internet gateway", "ec2:CreateInternetGateway", arn("ec2", "internet-gateway/*"), {}),
    # guardrails: only the platform personas change them, nobody creates one under a boundary
    ("create a guardrail", "bedrock:CreateGuardrail", "*", {}),
]
# What provisioning a reviewed product needs (an API, its function's invoke permission for API
# Gateway, its bucket's policy): the launch boundary admits these, and the launch role's own
# generated policy holds them to the team's products (test_the_launch_role_provisions_only_its_products).
LAUNCH_PROVISIONS = {"public Lambda permission", "API change", "API policy", "bucket policy", "bucket public access"}
GUARDRAIL_CHANGES = [("update the team guardrail", "bedrock:UpdateGuardrail", GUARDRAIL, {}),
                     ("version the team guardrail", "bedrock:CreateGuardrailVersion", GUARDRAIL, {}),
                     ("delete the team guardrail", "bedrock:DeleteGuardrail", GUARDRAIL, {})]


@pytest.mark.parametrize("profile", ["team", "launch", "platform"])
@pytest.mark.parametrize("scps", [True, False], ids=["organisation", "single-account"])
def test_the_probe_is_refused_every_side_door(boundaries, profile, scps):
    doors = SIDE_DOORS + (GUARDRAIL_CHANGES if profile != "platform" else [])
    doors = [d for d in doors if not (profile == "launch" and d[0] in LAUNCH_PROVISIONS)]
    opened = [(name, action, d.reason) for name, action, resource, context in doors
              if (d := _probe(boundaries, profile, action, resource, context, scps=scps))]
    assert not opened, opened


def test_the_platform_personas_keep_their_guardrail_changes(boundaries):
    """The one class the platform boundary adds: change-guardrails (and change-network)."""
    for _, action, resource, context in GUARDRAIL_CHANGES:
        assert _probe(boundaries, "platform", action, resource, context), action
    assert _probe(boundaries, "platform", "ec2:CreateVpcEndpoint", arn("ec2", "vpc-endpoint/*"))


def test_the_probe_can_still_do_its_work(boundaries):
    """The same probe is not refused everything: the guarded calls pass with their conditions
    (this is what makes the refusals above meaningful)."""
    job = arn("sagemaker", "training-job/genai-x")
    assert _probe(boundaries, "team", "sagemaker:CreateTrainingJob", job, VPC)
    assert _probe(boundaries, "team", "bedrock:InvokeModel", MODEL, GUARDED)
    assert _probe(boundaries, "team", "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}exec",
                  {"iam:PassedToService": "sagemaker.amazonaws.com"})
    assert _probe(boundaries, "team", "logs:PutLogEvents", f"{INVOCATION_LOGS}:log-stream:x")
    assert _probe(boundaries, "launch", "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}x",
                  {"iam:PermissionsBoundary": TEAM_BOUNDARY})
    assert _probe(boundaries, "launch", "logs:PutRetentionPolicy", arn("logs", f"log-group:/{ORG}/{TEAM}/app"))


# -- the combinations an attacker would try ------------------------------------------------------

def test_a_role_the_launch_role_creates_is_under_the_team_boundary_or_not_created(boundaries):
    """CreateRole without a boundary, with another one, outside the project path: refused; the
    only role it can create carries the team boundary, under which CreateRole is out of reach."""
    role = f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}x"
    for context in ({}, {"iam:PermissionsBoundary": ADMIN}, {"iam:PermissionsBoundary": LAUNCH_BOUNDARY}):
        assert not _probe(boundaries, "launch", "iam:CreateRole", role, context), context
        assert not _probe(boundaries, "launch", "iam:PutRolePermissionsBoundary", role, context), context
    assert not _probe(boundaries, "launch", "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/escape",
                      {"iam:PermissionsBoundary": TEAM_BOUNDARY})
    assert not _probe(boundaries, "team", "iam:CreateRole", role, {"iam:PermissionsBoundary": TEAM_BOUNDARY})
    # ... nor can it hand its new role more than project policies, or pass roles out of the team
    assert not _probe(boundaries, "launch", "iam:AttachRolePolicy", role, {"iam:PolicyARN": ADMIN})
    assert _probe(boundaries, "launch", "iam:AttachRolePolicy", role,
                  {"iam:PolicyARN": f"arn:aws:iam::{ACCOUNT}:policy{PROJECT_PATH}p"})
    for profile in ("team", "launch"):
        assert not _probe(boundaries, profile, "iam:PassRole", CDK_EXEC_ROLE)
        assert not _probe(boundaries, profile, "iam:AttachRolePolicy", PROBE[profile], {"iam:PolicyARN": ADMIN})


def test_tagging_cannot_satisfy_another_teams_abac(boundaries):
    """Retagging a resource of another team (one account, single-account mode) to one's own team,
    or tagging a role with a persona, is refused."""
    package = arn("sagemaker", "model-package/risk-churn/1")
    other = {"aws:ResourceTag/fmops:team": "risk", "aws:RequestTag/fmops:team": TEAM, "aws:TagKeys": ["fmops:team"]}
    for profile in ("team", "platform"):
        assert not _probe(boundaries, profile, "sagemaker:AddTags", package, other)
        assert not _probe(boundaries, profile, "sagemaker:DeleteTags", package, other)
        assert not _probe(boundaries, profile, "bedrock:TagResource", arn("bedrock", "prompt/P"), other)
    assert _probe(boundaries, "team", "sagemaker:AddTags", arn("sagemaker", "training-job/genai-x"),
                  {"aws:RequestTag/fmops:team": TEAM, "aws:TagKeys": ["fmops:team"]})
    persona = {"aws:TagKeys": ["fmops:persona"], "aws:RequestTag/fmops:persona": "lead-data-scientist"}
    role = f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}x"
    assert not _probe(boundaries, "launch", "iam:CreateRole", role, {**persona, "iam:PermissionsBoundary": TEAM_BOUNDARY})
    assert not _probe(boundaries, "launch", "iam:TagRole", role, persona)
    assert not _probe(boundaries, "team", "iam:TagRole", PROBE["team"], persona)


def test_a_persona_opens_only_its_own_studio_profile(boundaries):
    own = arn("sagemaker", "user-profile/d-example/genai-data-scientist")
    lead = arn("sagemaker", "user-profile/d-example/genai-lead-data-scientist")
    tags = {"fmops:team": TEAM, "fmops:persona": "data-scientist"}
    assert _probe(boundaries, "team", "sagemaker:CreatePresignedDomainUrl", own, tags=tags)
    assert not _probe(boundaries, "team", "sagemaker:CreatePresignedDomainUrl", lead, tags=tags)
    assert not _probe(boundaries, "team", "sagemaker:CreatePresignedDomainUrl",
                      arn("sagemaker", "user-profile/d-example/risk-data-scientist"), tags=tags)
    assert not _probe(boundaries, "team", "sagemaker:CreatePresignedDomainUrl", own)  # no persona tag


def test_an_endpoint_can_only_run_models_created_in_the_vpc(boundaries):
    """UpdateEndpoint points an endpoint at a config, whose models must exist: every model the
    probe can create has VpcConfig, so a config outside the VPC cannot be built under a boundary."""
    for profile in ("team", "launch", "platform"):
        assert not _probe(boundaries, profile, "sagemaker:CreateModel", arn("sagemaker", "model/genai-x"))
        assert _probe(boundaries, profile, "sagemaker:CreateModel", arn("sagemaker", "model/genai-x"), VPC)


# -- every action the classification denies --------------------------------------------------------

def _refused_by_classification(profile: str) -> list[str]:
    permitted = {a.lower() for a in classification.permitted_actions(profile)}
    return sorted(f"{service}:{action}" for service, entry in classification.load_classification().items()
                  for action in entry.actions if f"{service}:{action}".lower() not in permitted)


@pytest.mark.parametrize("profile", ["team", "launch", "platform"])
def test_the_probe_is_refused_every_action_outside_its_ceiling(boundaries, profile):
    """Dataset-driven: every classified action outside the profile's ceiling (denied, the launch
    role's for the others, the platform's for the teams), on any resource, in single-account mode
    (no SCP to help)."""
    # The default organisation's team boundaries are those of data-lake teams (profile lake).
    refused = _refused_by_classification("lake" if profile == "team" else profile)
    assert len(refused) > 1000
    admitted = [a for a in refused if _probe(boundaries, profile, a, "*", {}, scps=False)]
    assert not admitted, admitted


@pytest.fixture(scope="module")
def launch_role(default_assembly):
    principals = account_principals([s for s in read_stacks(default_assembly) if s.account == ACCOUNT], _scp_levels())
    return principals.roles[naming.catalog_launch_role_name(ORG, TEAM)]


def test_the_launch_role_provisions_only_its_products(launch_role):
    """What the launch boundary admits for provisioning, the launch role's generated policy holds
    to the team's products: the team's functions; no product has a bucket, so no bucket policy."""
    def allowed(action: str, resource: str, context: dict | None = None) -> bool:
        request = Request(action, resource, {"aws:SecureTransport": True, **(context or {})})
        return bool(evaluate(launch_role.layers, request, Principal(launch_role.arn, ACCOUNT)))

    for bucket in (f"sc-{ACCOUNT}-pp-abcdefghijklm-bucket", naming.team_bucket_name(ORG, TEAM, ACCOUNT, REGION), naming.access_log_bucket_name(ORG, ACCOUNT, REGION)):
        assert not allowed("s3:PutBucketPolicy", f"arn:aws:s3:::{bucket}"), bucket
        assert not allowed("s3:PutBucketPublicAccessBlock", f"arn:aws:s3:::{bucket}"), bucket
    assert allowed("lambda:AddPermission", arn("lambda", f"function:{TEAM}-x"))
    assert not allowed("lambda:AddPermission", arn("lambda", "function:risk-x"))
    assert not allowed("lambda:AddPermission", arn("lambda", "function:fmops-platform-x"))
    assert not allowed("iam:PutRolePolicy", PERSONA_ROLE)
    assert allowed("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role{PROJECT_PATH}SC-{ACCOUNT}-pp-abc-Role-XYZ")


def _boundary_name(template: dict, role: dict) -> str:
    boundary = role["Properties"]["PermissionsBoundary"]
    if isinstance(boundary, dict) and list(boundary) == ["Ref"]:
        return template["Resources"][boundary["Ref"]]["Properties"]["ManagedPolicyName"]
    return json.dumps(boundary).rsplit("/", 1)[-1].split('"')[0]


def _grants(template: dict, role_id: str, role: dict) -> list[dict]:
    """The Allow statements of a role's inline policies and of the template's policies attached to it."""
    documents = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
    refs = {json.dumps(r) for r in role["Properties"].get("ManagedPolicyArns", [])}
    name = json.dumps(role["Properties"].get("RoleName", role_id))
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        roles = {json.dumps(r) for r in resource["Properties"].get("Roles", [])}
        if json.dumps({"Ref": role_id}) in roles or name in roles or json.dumps({"Ref": logical_id}) in refs:
            documents.append(resource["Properties"]["PolicyDocument"])
    return [s for d in documents for s in d.get("Statement", []) if s.get("Effect") == "Allow"]


def test_every_role_under_a_boundary_keeps_every_grant(default_templates):
    """No grant of a synthesized role is void under its boundary: every action an identity policy
    of a bounded role allows (patterns expanded over the classification) is in the ceiling of the
    boundary the role carries; every role of every stack of the default organisation (product
    roles: tests/test_catalog.py::test_product_roles_fit_under_the_team_boundary)."""
    universe = {f"{s}:{a}".lower() for s, e in classification.load_classification().items() for a in e.actions}
    permitted = {p: {a.lower() for a in classification.permitted_actions(p)}
                 for p in ("team", "launch", "platform", "lake")}
    lake_boundaries = {naming.boundary_name("fmops", t.name) for t in load_config(DEFAULT_CONFIG).teams
                       if t.has_data_lake}
    void, checked = [], 0
    for stack, template in default_templates.items():
        for role_id, role in template["Resources"].items():
            if role["Type"] != "AWS::IAM::Role" or "PermissionsBoundary" not in role["Properties"]:
                continue
            boundary = _boundary_name(template, role)
            profile = "launch" if boundary.endswith("-launch-boundary") else \
                "platform" if boundary.endswith("-platform-boundary") else \
                "lake" if boundary in lake_boundaries else "team"
            for statement in _grants(template, role_id, role):
                actions = statement.get("Action", [])
                for action in actions if isinstance(actions, list) else [actions]:
                    name = action.lower()
                    expanded = {name} & universe if "*" not in name and "?" not in name else \
                        {u for u in universe if u.startswith(name.split(":")[0] + ":") and glob_match(name, u)}
                    checked += 1
                    if not expanded or expanded - permitted[profile]:
                        void.append((stack, role_id, profile, action))
    assert checked > 500
    assert not void, void
