"""From a recorded operation to the IAM requests AWS authorizes for it.

Each operation becomes one or more :class:`Step`: who makes it (the person's role, its Studio
execution role, or a role a service assumes), and the IAM requests with their resource ARN and
condition context. What AWS authorizes besides the operation's own action is included:

- ``iam:PassRole`` of every role an operation hands to a service, with ``iam:PassedToService``,
  and the passed role's trust (the service must be able to assume it);
- ``sagemaker:AddTags`` (``sagemaker:TaggingAction``) when a SageMaker create call carries tags;
- KMS through S3: objects of the team bucket are SSE-KMS with the team key, so S3 calls KMS with
  the caller's permissions (``kms:ViaService``): data keys to write, decrypt to read, both for a
  multipart upload;
- Bedrock's ``ApplyGuardrail`` on the guardrail a Converse names; a Converse through an
  application inference profile is authorized against the profile and against each resource
  it routes to, with ``bedrock:InferenceProfileArn`` the profile;
- what SageMaker then does as the passed role: read the job's S3 inputs and code, write its
  outputs (KMS through S3), write its logs.

Calls that need no authorization (``sts:GetCallerIdentity``) map to nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from infra.compliance.iam_eval import Request
from infra.naming import TAG_TEAM
from infra.personas.workflows.recorder import ACCOUNT, ORG, PERSONA, REGION, TEAM


@dataclass(frozen=True)
class Target:
    """The team, persona and account a trace is evaluated for."""

    org: str
    team: str
    persona: str
    account: str
    region: str
    model_arn: str  # what the recorded MODELID stands for
    key_arn: str  # the team's data key
    profile_arn: str = ""  # what the recorded TEAMPROFILE stands for: the team's inference profile
    profile_routes: tuple[str, ...] = ()  # what Bedrock authorizes a call through it against besides
    model_slug: str = "none"  # what the recorded MODELSLUG stands for

    def apply(self, text: str) -> str:
        profile = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/TEAMPROFILE"
        for old, new in ((profile, self.profile_arn or profile), (f"arn:aws:kms:{REGION}:{ACCOUNT}:key/TEAMKEY", self.key_arn),
                         ("MODELID", self.model_arn), ("MODELSLUG", self.model_slug),
                         (ACCOUNT, self.account), (REGION, self.region), (f"{TEAM}-{PERSONA}", f"{self.team}-{self.persona}"),
                         (PERSONA, self.persona), (TEAM, self.team), (f"{ORG}-", f"{self.org}-"), (f"/{ORG}/", f"/{self.org}/")):
            text = text.replace(old, new)
        return text


@dataclass(frozen=True)
class Step:
    """One authorization step: ``actor`` ("persona", "studio-role" or "role:<arn>") makes ``request``."""

    operation: str
    actor: str
    request: Request
    passed_role: str | None = None  # for iam:PassRole: the role, and the service it goes to
    passed_to: str | None = None


@dataclass
class _Call:
    target: Target
    actor: str
    params: dict[str, Any]
    operation: str = ""
    steps: list[Step] = field(default_factory=list)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.target.region}:{self.target.account}:{resource}"

    def add(self, operation: str, action: str, resource: str, context: dict | None = None, actor: str | None = None) -> None:
        self.steps.append(Step(operation, actor or self.actor, Request(action, resource, context or {})))

    def pass_role(self, operation: str, role_arn: str, service: str) -> None:
        self.steps.append(Step(operation, self.actor, Request("iam:PassRole", role_arn, {"iam:PassedToService": service}),
                               passed_role=role_arn, passed_to=service))


def _tags(params: dict, key: str = "Tags") -> dict[str, Any]:
    tags = params.get(key) or []
    pairs = tags.items() if isinstance(tags, dict) else ((t["Key"], t["Value"]) for t in tags)
    context: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in pairs}
    if context:
        context["aws:TagKeys"] = [k.split("/", 1)[1] for k in context]
    return context


def _s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _kms_via_s3(call: _Call, operation: str, bucket: str, actions: tuple[str, ...], actor: str | None = None) -> None:
    context = {"kms:ViaService": f"s3.{call.target.region}.amazonaws.com", "kms:CallerAccount": call.target.account,
               "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}", f"aws:ResourceTag/{TAG_TEAM}": call.target.team}
    for action in actions:
        call.add(operation, action, call.target.key_arn, context, actor)


def _team_bucket(call: _Call, bucket: str) -> bool:
    return bucket.startswith(f"{call.target.org}-") and "-data-" in bucket


def _object(call: _Call, operation: str, action: str, bucket: str, key: str, kms: tuple[str, ...],
            actor: str | None = None) -> None:
    call.add(operation, action, f"arn:aws:s3:::{bucket}/{key}", {}, actor)
    if _team_bucket(call, bucket):
        _kms_via_s3(call, operation, bucket, kms, actor)


def _sagemaker_tags(call: _Call, operation: str, resource: str, params: dict) -> dict:
    tags = _tags(params)
    if tags:
        call.add(operation, "sagemaker:AddTags", resource, {**tags, "sagemaker:TaggingAction": operation})
    return tags


def _vpc(config: dict | None) -> dict[str, Any]:
    if not config:
        return {}
    return {"sagemaker:VpcSubnets": config.get("Subnets", []), "sagemaker:VpcSecurityGroupIds": config.get("SecurityGroupIds", [])}


def _job_runtime(call: _Call, operation: str, role: str, kind: str, name: str, reads: list[str], writes: list[str]) -> None:
    """What SageMaker does as the job's role: read inputs, write outputs (KMS through S3), log."""
    actor = f"role:{role}"
    for uri in reads:
        bucket, key = _s3(uri)
        _object(call, f"{operation} (job reads {key or '/'})", "s3:GetObject", bucket, (key.rstrip("/") + "/part-0") if key.endswith("/") or not key else key,
                ("kms:Decrypt",), actor)
    for uri in writes:
        bucket, key = _s3(uri)
        _object(call, f"{operation} (job writes {key})", "s3:PutObject", bucket, key.rstrip("/") + f"/{name}/output.tar.gz",
                ("kms:GenerateDataKey",), actor)
    # Jobs log to /aws/sagemaker/<kind> (stream <job>/algo-1), endpoints to /aws/sagemaker/Endpoints/<endpoint>.
    group, stream = (f"/aws/sagemaker/{kind}/{name}", "AllTraffic/i-0") if kind == "Endpoints" else \
        (f"/aws/sagemaker/{kind}", f"{name}/algo-1")
    call.add(f"{operation} (job logs)", "logs:PutLogEvents",
             call.arn("logs", f"log-group:{group}:log-stream:{stream}"), {}, actor)


def _create_training_job(call: _Call) -> None:
    p, name = call.params, call.params["TrainingJobName"]
    resource = call.arn("sagemaker", f"training-job/{name}")
    context = {**_tags(p), **_vpc(p.get("VpcConfig")), "sagemaker:InstanceTypes": [p["ResourceConfig"]["InstanceType"]]}
    if p["ResourceConfig"].get("VolumeKmsKeyId"):
        context["sagemaker:VolumeKmsKey"] = p["ResourceConfig"]["VolumeKmsKeyId"]
    if p.get("OutputDataConfig", {}).get("KmsKeyId"):
        context["sagemaker:OutputKmsKey"] = p["OutputDataConfig"]["KmsKeyId"]
    call.add("CreateTrainingJob", "sagemaker:CreateTrainingJob", resource, context)
    _sagemaker_tags(call, "CreateTrainingJob", resource, p)
    call.pass_role("CreateTrainingJob", p["RoleArn"], "sagemaker.amazonaws.com")
    reads = [c["DataSource"]["S3DataSource"]["S3Uri"] for c in p.get("InputDataConfig", [])]
    code = p.get("HyperParameters", {}).get("sagemaker_submit_directory", "").strip('"')
    _job_runtime(call, "CreateTrainingJob", p["RoleArn"], "TrainingJobs", name, reads + ([code] if code else []),
                 [p["OutputDataConfig"]["S3OutputPath"]])


def _create_processing_job(call: _Call) -> None:
    p, name = call.params, call.params["ProcessingJobName"]
    resource = call.arn("sagemaker", f"processing-job/{name}")
    cluster = p["ProcessingResources"]["ClusterConfig"]
    context = {**_tags(p), **_vpc(p.get("NetworkConfig", {}).get("VpcConfig")), "sagemaker:InstanceTypes": [cluster["InstanceType"]]}
    if cluster.get("VolumeKmsKeyId"):
        context["sagemaker:VolumeKmsKey"] = cluster["VolumeKmsKeyId"]
    if p.get("ProcessingOutputConfig", {}).get("KmsKeyId"):
        context["sagemaker:OutputKmsKey"] = p["ProcessingOutputConfig"]["KmsKeyId"]
    call.add("CreateProcessingJob", "sagemaker:CreateProcessingJob", resource, context)
    _sagemaker_tags(call, "CreateProcessingJob", resource, p)
    call.pass_role("CreateProcessingJob", p["RoleArn"], "sagemaker.amazonaws.com")
    reads = [i["S3Input"]["S3Uri"] for i in p.get("ProcessingInputs", []) if "S3Input" in i]
    writes = [o["S3Output"]["S3Uri"] for o in p.get("ProcessingOutputConfig", {}).get("Outputs", [])]
    _job_runtime(call, "CreateProcessingJob", p["RoleArn"], "ProcessingJobs", name, reads, writes)


def _create_model(call: _Call) -> None:
    p = call.params
    resource = call.arn("sagemaker", f"model/{p['ModelName']}")
    call.add("CreateModel", "sagemaker:CreateModel", resource, {**_tags(p), **_vpc(p.get("VpcConfig"))})
    _sagemaker_tags(call, "CreateModel", resource, p)
    call.pass_role("CreateModel", p["ExecutionRoleArn"], "sagemaker.amazonaws.com")
    containers = [p["PrimaryContainer"]] if "PrimaryContainer" in p else p.get("Containers", [])
    _job_runtime(call, "CreateModel", p["ExecutionRoleArn"], "Endpoints",
                 p["ModelName"], [c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")], [])


def _create_endpoint_config(call: _Call) -> None:
    p = call.params
    resource = call.arn("sagemaker", f"endpoint-config/{p['EndpointConfigName']}")
    context = {**_tags(p), "sagemaker:InstanceTypes": [v["InstanceType"] for v in p["ProductionVariants"] if "InstanceType" in v]}
    if p.get("KmsKeyId"):
        context["sagemaker:VolumeKmsKey"] = p["KmsKeyId"]
    call.add("CreateEndpointConfig", "sagemaker:CreateEndpointConfig", resource, context)
    _sagemaker_tags(call, "CreateEndpointConfig", resource, p)


def _create_endpoint(call: _Call) -> None:
    p = call.params
    resource = call.arn("sagemaker", f"endpoint/{p['EndpointName']}")
    call.add("CreateEndpoint", "sagemaker:CreateEndpoint", resource, _tags(p))
    call.add("CreateEndpoint", "sagemaker:CreateEndpoint", call.arn("sagemaker", f"endpoint-config/{p['EndpointConfigName']}"),
             {**_tags(p), f"aws:ResourceTag/{TAG_TEAM}": call.target.team})
    _sagemaker_tags(call, "CreateEndpoint", resource, p)


def _package_arn(call: _Call, params: dict) -> str:
    name = params.get("ModelPackageArn") or params.get("ModelPackageName") or ""
    return name if name.startswith("arn:") else call.arn("sagemaker", f"model-package/{name}")


def _create_model_package(call: _Call) -> None:
    p = call.params
    resource = call.arn("sagemaker", f"model-package/{p['ModelPackageGroupName']}/1")
    context = {**_tags(p), "sagemaker:ModelApprovalStatus": p.get("ModelApprovalStatus", "PendingManualApproval")}
    call.add("CreateModelPackage", "sagemaker:CreateModelPackage", resource, context)
    call.add("CreateModelPackage", "sagemaker:CreateModelPackage",
             call.arn("sagemaker", f"model-package-group/{p['ModelPackageGroupName']}"),
             {**context, f"aws:ResourceTag/{TAG_TEAM}": call.target.team})


def _update_model_package(call: _Call) -> None:
    p = call.params
    context = {f"aws:ResourceTag/{TAG_TEAM}": call.target.team}
    if "ModelApprovalStatus" in p:
        context["sagemaker:ModelApprovalStatus"] = p["ModelApprovalStatus"]
    call.add("UpdateModelPackage", "sagemaker:UpdateModelPackage", _package_arn(call, p), context)


def _space_images(settings: dict) -> list[str]:
    images = []
    for app in ("JupyterLabAppSettings", "CodeEditorAppSettings", "JupyterServerAppSettings", "KernelGatewayAppSettings"):
        spec = settings.get(app, {}).get("DefaultResourceSpec", {})
        if spec.get("SageMakerImageArn"):
            images.append(spec["SageMakerImageArn"])
    return images


def _owned_space(call: _Call, params: dict) -> dict[str, Any]:
    owner = params.get("OwnershipSettings", {}).get("OwnerUserProfileName", f"{call.target.team}-{call.target.persona}")
    return {"sagemaker:OwnerUserProfileArn": call.arn("sagemaker", f"user-profile/{params['DomainId']}/{owner}"),
            "sagemaker:SpaceSharingType": params.get("SpaceSharingSettings", {}).get("SharingType", "Private")}


def _create_space(call: _Call, operation: str = "CreateSpace") -> None:
    p = call.params
    context = _owned_space(call, p)
    images = _space_images(p.get("SpaceSettings", {}))
    if images:
        context["sagemaker:ImageArns"] = images
    call.add(operation, f"sagemaker:{operation}", call.arn("sagemaker", f"space/{p['DomainId']}/{p['SpaceName']}"), context)


def _create_app(call: _Call) -> None:
    p = call.params
    context = _owned_space(call, p)
    spec = p.get("ResourceSpec", {})
    if spec.get("SageMakerImageArn"):
        context["sagemaker:ImageArns"] = [spec["SageMakerImageArn"]]
    if spec.get("InstanceType"):
        context["sagemaker:InstanceTypes"] = [spec["InstanceType"]]
    owner = p.get("SpaceName") or p.get("UserProfileName")
    call.add("CreateApp", "sagemaker:CreateApp",
             call.arn("sagemaker", f"app/{p['DomainId']}/{owner}/{p['AppType']}/{p['AppName']}"), context)


def _put_object(call: _Call) -> None:
    _object(call, "PutObject", "s3:PutObject", call.params["Bucket"], call.params["Key"], ("kms:GenerateDataKey",))


def _complete_multipart(call: _Call) -> None:
    _object(call, "CompleteMultipartUpload", "s3:PutObject", call.params["Bucket"], call.params["Key"], ("kms:Decrypt",))


def _get_object(call: _Call) -> None:
    _object(call, "GetObject", "s3:GetObject", call.params["Bucket"], call.params["Key"], ("kms:Decrypt",))


def _converse(call: _Call) -> None:
    p = call.params
    guardrail = p.get("guardrailConfig") or {}
    context = {}
    if guardrail:
        context["bedrock:GuardrailIdentifier"] = f"{guardrail['guardrailIdentifier']}:{guardrail['guardrailVersion']}"
    call.add("Converse", "bedrock:InvokeModel", p["modelId"], context)
    if ":application-inference-profile/" in p["modelId"]:
        for route in call.target.profile_routes:
            call.add("Converse", "bedrock:InvokeModel", route, {**context, "bedrock:InferenceProfileArn": p["modelId"]})
    if guardrail:
        call.add("Converse", "bedrock:ApplyGuardrail", guardrail["guardrailIdentifier"])


def _create_vpc_endpoint(call: _Call) -> None:
    p = call.params
    service = p["ServiceName"]
    owner = "amazon" if service.startswith(f"com.amazonaws.{call.target.region}.") else "unknown"
    context = {"ec2:VpceServiceName": service, "ec2:VpceServiceOwner": owner,
               "ec2:VpceServiceNameAccount": owner}
    call.add("CreateVpcEndpoint", "ec2:CreateVpcEndpoint", call.arn("ec2", "vpc-endpoint/*"), context)
    call.add("CreateVpcEndpoint", "ec2:CreateVpcEndpoint", call.arn("ec2", f"vpc/{p['VpcId']}"), {})
    for subnet in p.get("SubnetIds", []):
        call.add("CreateVpcEndpoint", "ec2:CreateVpcEndpoint", call.arn("ec2", f"subnet/{subnet}"), {})
    for group in p.get("SecurityGroupIds", []):
        call.add("CreateVpcEndpoint", "ec2:CreateVpcEndpoint", call.arn("ec2", f"security-group/{group}"), {})


def _simple(action: str, resource: Callable[[_Call], str], context: Callable[[_Call], dict] | None = None):
    def mapper(call: _Call) -> None:
        call.add(action.split(":")[1], action, resource(call), context(call) if context else {})
    return mapper


def _team_tagged(call: _Call) -> dict:
    return {f"aws:ResourceTag/{TAG_TEAM}": call.target.team}


def _any(_: _Call) -> str:
    return "*"


def _prompt(call: _Call) -> str:
    identifier = call.params["promptIdentifier"]
    return identifier if identifier.startswith("arn:") else call.arn("bedrock", f"prompt/{identifier}")


def _parameter(call: _Call) -> str:
    return call.arn("ssm", "parameter/" + call.params["Name"].lstrip("/"))


def _self_level(_: _Call) -> dict:
    return {"servicecatalog:accountLevel": "self", "servicecatalog:roleLevel": "self", "servicecatalog:userLevel": "self"}


def _product(call: _Call) -> str:
    return call.arn("catalog", f"product/{call.params.get('ProductId') or call.params.get('Id')}")


def _create_project(call: _Call) -> None:
    """CreateProject: the project, tagged on create; SageMaker provisions a Service Catalog product
    with the caller's permissions, or runs a template with the passed project role."""
    p = call.params
    resource = call.arn("sagemaker", f"project/{p['ProjectName']}")
    call.add("CreateProject", "sagemaker:CreateProject", resource, _tags(p))
    _sagemaker_tags(call, "CreateProject", resource, p)
    details = p.get("ServiceCatalogProvisioningDetails")
    if details:
        product = call.arn("catalog", f"product/{details['ProductId']}")
        call.add("CreateProject", "servicecatalog:ProvisionProduct", product,
                 {**_team_tagged(call), **_tags(p)})
    for provider in p.get("TemplateProviders", []):
        role = provider.get("CfnTemplateProvider", {}).get("RoleARN")
        if role:
            call.pass_role("CreateProject", role, "cloudformation.amazonaws.com")


def _mlflow_server(call: _Call, arn: str) -> dict[str, str]:
    """A call on a tracking server: its ARN, and the team tag it carries (the team its name names:
    ``<org>-<team>``, as the team stack names it)."""
    name = arn.rsplit("/", 1)[-1]
    owner = name.removeprefix(f"{call.target.org}-")
    return {f"aws:ResourceTag/{TAG_TEAM}": owner}


def _mlflow_rest(call: _Call) -> None:
    """A REST call of the MLflow client to a tracking server: the sagemaker-mlflow action of its name."""
    arn = call.params["TrackingServerArn"]
    call.add(call.operation, f"sagemaker-mlflow:{call.operation}", arn, _mlflow_server(call, arn))


def _presigned_mlflow_url(call: _Call) -> None:
    arn = call.arn("sagemaker", f"mlflow-tracking-server/{call.params['TrackingServerName']}")
    call.add("CreatePresignedMlflowTrackingServerUrl", "sagemaker:CreatePresignedMlflowTrackingServerUrl", arn,
             _mlflow_server(call, arn))


def _create_function(call: _Call) -> None:
    call.add("CreateFunction", "lambda:CreateFunction", call.arn("lambda", f"function:{call.params['FunctionName']}"))
    call.pass_role("CreateFunction", call.params["Role"], "lambda.amazonaws.com")


_MAPPERS: dict[tuple[str, str], Callable[[_Call], None]] = {
    ("sagemaker", "CreateTrainingJob"): _create_training_job,
    ("sagemaker", "CreateProcessingJob"): _create_processing_job,
    ("sagemaker", "CreateModel"): _create_model,
    ("sagemaker", "CreateEndpointConfig"): _create_endpoint_config,
    ("sagemaker", "CreateEndpoint"): _create_endpoint,
    ("sagemaker", "CreateModelPackage"): _create_model_package,
    ("sagemaker", "UpdateModelPackage"): _update_model_package,
    ("sagemaker", "CreateSpace"): _create_space,
    ("sagemaker", "UpdateSpace"): lambda call: _create_space(call, "UpdateSpace"),
    ("sagemaker", "CreateApp"): _create_app,
    ("sagemaker", "DescribeTrainingJob"): _simple("sagemaker:DescribeTrainingJob",
                                                  lambda c: c.arn("sagemaker", f"training-job/{c.params['TrainingJobName']}")),
    ("sagemaker", "DescribeEndpoint"): _simple("sagemaker:DescribeEndpoint",
                                               lambda c: c.arn("sagemaker", f"endpoint/{c.params['EndpointName']}")),
    ("sagemaker", "DescribeModelPackage"): _simple("sagemaker:DescribeModelPackage",
                                                   lambda c: _package_arn(c, c.params), _team_tagged),
    ("sagemaker", "ListModelPackages"): _simple("sagemaker:ListModelPackages", _any),
    ("sagemaker", "Search"): _simple("sagemaker:Search", _any),
    ("sagemaker", "ListDomains"): _simple("sagemaker:ListDomains", _any),
    ("sagemaker", "StartPipelineExecution"): _simple(
        "sagemaker:StartPipelineExecution", lambda c: c.arn("sagemaker", f"pipeline/{c.params['PipelineName']}")),
    ("sagemaker", "ListPipelineExecutionSteps"): _simple(
        "sagemaker:ListPipelineExecutionSteps", lambda c: c.params["PipelineExecutionArn"]),
    ("sagemaker", "ListUserProfiles"): _simple("sagemaker:ListUserProfiles", _any),
    ("sagemaker", "CreatePresignedDomainUrl"): _simple(
        "sagemaker:CreatePresignedDomainUrl",
        lambda c: c.arn("sagemaker", f"user-profile/{c.params['DomainId']}/{c.params['UserProfileName']}")),
    ("s3", "PutObject"): _put_object,
    ("s3", "CreateMultipartUpload"): lambda call: _object(call, "CreateMultipartUpload", "s3:PutObject", call.params["Bucket"],
                                                          call.params["Key"], ("kms:GenerateDataKey",)),
    ("s3", "UploadPart"): lambda call: _object(call, "UploadPart", "s3:PutObject", call.params["Bucket"], call.params["Key"],
                                               ("kms:GenerateDataKey",)),
    ("s3", "CompleteMultipartUpload"): _complete_multipart,
    ("s3", "GetObject"): _get_object,
    ("servicecatalog", "SearchProducts"): _simple("servicecatalog:SearchProducts", _any),
    ("servicecatalog", "DescribeProduct"): _simple("servicecatalog:DescribeProduct", _product, _team_tagged),
    ("servicecatalog", "ListLaunchPaths"): _simple("servicecatalog:ListLaunchPaths", _product, _team_tagged),
    ("servicecatalog", "DescribeProvisioningParameters"): _simple("servicecatalog:DescribeProvisioningParameters",
                                                                  _product, _team_tagged),
    ("servicecatalog", "ProvisionProduct"): _simple("servicecatalog:ProvisionProduct", _product,
                                                    lambda c: {**_team_tagged(c), **_tags(c.params)}),
    ("servicecatalog", "DescribeRecord"): _simple("servicecatalog:DescribeRecord", _any, _self_level),
    ("sagemaker", "CreateProject"): _create_project,
    ("sagemaker", "DescribeProject"): _simple("sagemaker:DescribeProject",
                                              lambda c: c.arn("sagemaker", f"project/{c.params['ProjectName']}"),
                                              _team_tagged),
    ("ssm", "GetParameter"): _simple("ssm:GetParameter", _parameter),
    ("bedrock-runtime", "Converse"): _converse,
    ("bedrock-agent", "CreatePrompt"): _simple("bedrock:CreatePrompt", _any, lambda c: _tags(c.params, "tags")),
    ("bedrock-agent", "UpdatePrompt"): _simple("bedrock:UpdatePrompt", _prompt, _team_tagged),
    ("bedrock-agent", "CreatePromptVersion"): _simple("bedrock:CreatePromptVersion", _prompt, _team_tagged),
    ("bedrock-agent", "GetPrompt"): _simple("bedrock:GetPrompt", _prompt, _team_tagged),
    ("bedrock", "UpdateGuardrail"): _simple("bedrock:UpdateGuardrail", lambda c: c.params["guardrailIdentifier"]),
    ("bedrock", "CreateGuardrailVersion"): _simple("bedrock:CreateGuardrailVersion", lambda c: c.params["guardrailIdentifier"]),
    ("logs", "FilterLogEvents"): _simple("logs:FilterLogEvents",
                                         lambda c: c.arn("logs", f"log-group:{c.params['logGroupName']}:*")),
    ("ec2", "CreateVpcEndpoint"): _create_vpc_endpoint,
    ("ec2", "ModifyVpcEndpoint"): _simple("ec2:ModifyVpcEndpoint",
                                          lambda c: c.arn("ec2", f"vpc-endpoint/{c.params['VpcEndpointId']}")),
    ("cloudtrail", "LookupEvents"): _simple("cloudtrail:LookupEvents", _any),
    ("config", "GetComplianceDetailsByConfigRule"): _simple(
        "config:GetComplianceDetailsByConfigRule", lambda c: c.arn("config", f"config-rule/{c.params['ConfigRuleName']}")),
    ("execute-api", "Invoke"): _simple("execute-api:Invoke", lambda c: c.arn(
        "execute-api", f"{c.params['api']}/{c.params['stage']}/{c.params['method']}{c.params['path']}")),
    ("lambda", "CreateFunction"): _create_function,
    ("kms", "Decrypt"): _simple("kms:Decrypt", lambda c: c.params["KeyId"],
                                lambda c: {f"aws:ResourceTag/{TAG_TEAM}": c.target.team}),
    ("sts", "GetCallerIdentity"): lambda call: None,  # needs no permission
    ("sagemaker", "CreatePresignedMlflowTrackingServerUrl"): _presigned_mlflow_url,
    **{("sagemaker-mlflow", operation): _mlflow_rest for operation in (
        "GetExperimentByName", "CreateExperiment", "CreateRun", "LogBatch", "UpdateRun", "SearchExperiments",
        "SearchRuns", "GetRun", "GetMetricHistory")},
}


def steps(trace: list[dict[str, Any]], target: Target) -> list[Step]:
    """The authorization steps of a recorded trace, for ``target``'s team, persona and account."""
    result: list[Step] = []
    for recorded in trace:
        params = json.loads(target.apply(json.dumps(recorded["params"])))
        mapper = _MAPPERS.get((recorded["service"], recorded["operation"]))
        if mapper is None:
            raise KeyError(f"no IAM mapping for {recorded['service']}:{recorded['operation']}; add one to {__name__}")
        call = _Call(target, recorded["actor"], params, recorded["operation"])
        mapper(call)
        result += call.steps
    return result


def unmapped(trace: list[dict[str, Any]]) -> list[str]:
    return [f"{c['service']}:{c['operation']}" for c in trace if (c["service"], c["operation"]) not in _MAPPERS]

