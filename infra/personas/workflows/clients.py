"""The workflows of the persona matrix, as the real clients run them.

Each function is what a person does with the client they really use: the SageMaker Python SDK
for jobs, endpoints and model registration; boto3 for S3 under SSE-KMS, Bedrock with a
guardrail, Service Catalog, prompts, logs; the console's and Studio's calls to open Studio and
start a space. :mod:`infra.personas.workflows.recorder` runs them offline and captures every
operation they send. The values are the recorder's sentinels (``teamx``/``personax``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import Any, Callable

from infra import naming
from infra.personas.workflows.recorder import Recorder, Sentinels

Client = Callable[[Any, Sentinels, Recorder], None]


def _sagemaker_session(session, s: Sentinels):
    import sagemaker

    return sagemaker.Session(boto_session=session, default_bucket=s.bucket)


def _image(framework: str, s: Sentinels, version: str) -> str:
    from sagemaker import image_uris

    return image_uris.retrieve(framework, region=s.region, version=version)


def train(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: a training job from a script (its code bundle uploaded to the team
    bucket), in the VPC, KMS-encrypted, tagged, with the persona's own execution role."""
    import tempfile
    from pathlib import Path

    from sagemaker.estimator import Estimator

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "train.py").write_text("print('training')\n")
        estimator = Estimator(
            image_uri=_image("xgboost", s, "1.7-1"), role=s.job_role_arn, instance_count=1,
            instance_type="ml.m5.xlarge", subnets=[s.subnet], security_group_ids=[s.security_group],
            volume_kms_key=s.key_arn, output_kms_key=s.key_arn, entry_point="train.py", source_dir=folder,
            code_location=f"s3://{s.bucket}/jobs/{s.team}-xgb/code", output_path=f"s3://{s.bucket}/jobs/{s.team}-xgb/output",
            sagemaker_session=_sagemaker_session(session, s), tags=s.tags, enable_network_isolation=False)
        estimator.fit({"train": f"s3://{s.bucket}/data/curated/"}, job_name=f"{s.team}-xgb-1", wait=False, logs=False)


def train_outside_vpc(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: a training job with neither VPC subnets nor KMS keys."""
    from sagemaker.estimator import Estimator

    Estimator(image_uri=_image("xgboost", s, "1.7-1"), role=s.job_role_arn, instance_count=1, instance_type="ml.m5.xlarge",
              output_path=f"s3://{s.bucket}/jobs/{s.team}-open/output", sagemaker_session=_sagemaker_session(session, s),
              tags=s.tags).fit({"train": f"s3://{s.bucket}/data/curated/"}, job_name=f"{s.team}-open-1", wait=False, logs=False)


def process(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: a processing job in the VPC, KMS-encrypted, tagged."""
    from sagemaker.network import NetworkConfig
    from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor

    processor = Processor(
        role=s.job_role_arn, image_uri=_image("sklearn", s, "1.2-1"), instance_count=1, instance_type="ml.m5.xlarge",
        volume_kms_key=s.key_arn, output_kms_key=s.key_arn, sagemaker_session=_sagemaker_session(session, s),
        tags=s.tags, network_config=NetworkConfig(subnets=[s.subnet], security_group_ids=[s.security_group],
                                                  encrypt_inter_container_traffic=True))
    processor.run(inputs=[ProcessingInput(source=f"s3://{s.bucket}/data/raw/", destination="/opt/ml/processing/input")],
                  outputs=[ProcessingOutput(source="/opt/ml/processing/output",
                                            destination=f"s3://{s.bucket}/jobs/{s.team}-features/output")],
                  job_name=f"{s.team}-features-1", wait=False, logs=False)


def _describe(method: str, what: str, **names: str) -> Client:
    """A boto3 SageMaker read (``names`` formatted with the sentinels); the emulator may not know it."""
    def read(session, s: Sentinels, rec: Recorder) -> None:
        client = session.client("sagemaker")
        try:
            getattr(client, method)(**{k: v.format(s=s) for k, v in names.items()})
        except client.exceptions.ClientError:
            pass
    read.__doc__ = f"boto3: look at {what}"
    return read


describe_training = _describe("describe_training_job", "a training job", TrainingJobName="{s.team}-xgb-1")
describe_endpoint = _describe("describe_endpoint", "an endpoint", EndpointName="{s.team}-xgb")
describe_package = _describe("describe_model_package", "a model version of the team's registry",
                             ModelPackageName="arn:aws:sagemaker:{s.region}:{s.account}:model-package/{s.team}-models/3")


def _model(session, s: Sentinels):
    from sagemaker.model import Model

    return Model(image_uri=_image("xgboost", s, "1.7-1"), model_data=f"s3://{s.bucket}/models/{s.team}-xgb/model.tar.gz",
                 role=s.job_role_arn, name=f"{s.team}-xgb", vpc_config={"Subnets": [s.subnet],
                                                                       "SecurityGroupIds": [s.security_group]},
                 sagemaker_session=_sagemaker_session(session, s))


def deploy(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: Model.deploy to a real-time endpoint in the VPC, KMS-encrypted,
    capturing its data into the team bucket."""
    from sagemaker.model_monitor import DataCaptureConfig

    _model(session, s).deploy(
        initial_instance_count=1, instance_type="ml.m5.large", endpoint_name=f"{s.team}-xgb", tags=s.tags,
        kms_key=s.key_arn, wait=False,
        data_capture_config=DataCaptureConfig(enable_capture=True, destination_s3_uri=f"s3://{s.bucket}/data-capture/",
                                              kms_key_id=s.key_arn))


def register(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: register a model version in the team's registry, pending approval."""
    session.client("sagemaker").create_model_package_group(ModelPackageGroupName=f"{s.team}-models", Tags=s.tags)
    rec.calls.pop()  # the group is created by the team's stack, not by the person
    _model(session, s).register(content_types=["text/csv"], response_types=["text/csv"],
                                inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"],
                                model_package_group_name=f"{s.team}-models", approval_status="PendingManualApproval")


def approve(session, s: Sentinels, rec: Recorder) -> None:
    """boto3: find a pending model version of the team's registry and approve it."""
    client = session.client("sagemaker")
    arn = f"arn:aws:sagemaker:{s.region}:{s.account}:model-package/{s.team}-models/3"
    client.list_model_packages(ModelPackageGroupName=f"{s.team}-models", ModelApprovalStatus="PendingManualApproval")
    for call in (lambda: client.describe_model_package(ModelPackageName=arn),
                 lambda: client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved",
                                                     ApprovalDescription="meets the KPIs")):
        try:
            call()
        except client.exceptions.ClientError:
            pass


def _object(prefix: str) -> Callable[[Any, Sentinels, Recorder], None]:
    def put(session, s: Sentinels, rec: Recorder) -> None:
        session.client("s3").put_object(Bucket=s.bucket, Key=f"{prefix}", Body=b"x" * 64,
                                        ServerSideEncryption="aws:kms", SSEKMSKeyId=s.key_arn)
    put.__doc__ = f"boto3: put an object under {prefix.split('/')[0]}/ with SSE-KMS (the team key)"
    return put


def _read(prefix: str, team: str | None = None) -> Callable[[Any, Sentinels, Recorder], None]:
    def get(session, s: Sentinels, rec: Recorder) -> None:
        client = session.client("s3")
        bucket = s.bucket if team is None else replace(s, team=team).bucket
        if team is not None:
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s.region})
            rec.calls.pop()
        client.put_object(Bucket=bucket, Key=prefix, Body=b"x" * 64)
        rec.calls.pop()
        client.get_object(Bucket=bucket, Key=prefix)["Body"].read()
    get.__doc__ = f"boto3: read an object under {prefix.split('/')[0]}/ (SSE-KMS: S3 decrypts with the team key)"
    return get


def upload_weights(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 upload_fileobj: model weights in a multipart upload under models/, SSE-KMS."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, use_threads=False)
    session.client("s3").upload_fileobj(io.BytesIO(b"w" * (6 * 1024 * 1024)), s.bucket,
                                        f"models/{s.team}-flan-t5/model.tar.gz", Config=config,
                                        ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": s.key_arn})


def open_studio(session, s: Sentinels, rec: Recorder) -> None:
    """Console, then Studio: find the domain and one's profile, open it (presigned URL), then,
    from inside Studio (its execution role), create one's private space and start JupyterLab on
    an allowed image."""
    client = session.client("sagemaker")
    client.list_domains()
    client.list_user_profiles(DomainIdEquals=s.domain_id)
    client.create_presigned_domain_url(DomainId=s.domain_id, UserProfileName=s.profile)
    image = f"arn:aws:sagemaker:{s.region}:{s.account}:image/{s.org}-jupyterlab"
    with rec.acting_as("studio-role"):
        client.create_space(DomainId=s.domain_id, SpaceName=f"{s.profile}-work",
                            OwnershipSettings={"OwnerUserProfileName": s.profile},
                            SpaceSharingSettings={"SharingType": "Private"},
                            SpaceSettings={"AppType": "JupyterLab", "JupyterLabAppSettings": {
                                "DefaultResourceSpec": {"SageMakerImageArn": image, "InstanceType": "ml.t3.medium"}}})
        client.create_app(DomainId=s.domain_id, SpaceName=f"{s.profile}-work", AppType="JupyterLab", AppName="default",
                          ResourceSpec={"SageMakerImageArn": image, "InstanceType": "ml.t3.medium"})


def list_profiles(session, s: Sentinels, rec: Recorder) -> None:
    """Console: the Studio domain and its profiles."""
    client = session.client("sagemaker")
    client.list_domains()
    client.list_user_profiles(DomainIdEquals=s.domain_id)


def provision(session, s: Sentinels, rec: Recorder) -> None:
    """boto3, as `fmops provision` and Studio do: find the team's product, its launch path and
    parameters in Service Catalog, then create a SageMaker project from it tagged with the team
    (SageMaker provisions the product with the caller's permissions) and follow the project."""
    client = session.client("servicecatalog")
    product = client.search_products()["ProductViewSummaries"][0]["ProductId"]
    artifact = client.describe_product(Id=product)["ProvisioningArtifacts"][0]["Id"]
    path = client.list_launch_paths(ProductId=product)["LaunchPathSummaries"][0]["Id"]
    client.describe_provisioning_parameters(ProductId=product, ProvisioningArtifactId=artifact, PathId=path)
    sagemaker = session.client("sagemaker")
    sagemaker.create_project(ProjectName=f"{s.team}-churn", Tags=s.tags, ServiceCatalogProvisioningDetails={
        "ProductId": product, "ProvisioningArtifactId": artifact, "PathId": path, "ProvisioningParameters": []})
    sagemaker.describe_project(ProjectName=f"{s.team}-churn")


def converse(session, s: Sentinels, rec: Recorder) -> None:
    """boto3: read the team guardrail, its published version and the team's inference profile of
    the model from SSM, then Converse through the profile (the team's Bedrock spend) and the guardrail."""
    ssm = session.client("ssm")
    names = {kind: naming.guardrail_parameter(s.org, s.team, kind) for kind in ("arn", "version")}
    names["profile"] = naming.inference_profile_parameter(s.org, s.team, s.model_slug)
    for kind, value in (("arn", s.guardrail_arn), ("version", "1"), ("profile", s.profile_arn)):
        ssm.put_parameter(Name=names[kind], Value=value, Type="String")
        rec.calls.pop()
    arn = ssm.get_parameter(Name=names["arn"])["Parameter"]["Value"]
    version = ssm.get_parameter(Name=names["version"])["Parameter"]["Value"]
    profile = ssm.get_parameter(Name=names["profile"])["Parameter"]["Value"]
    session.client("bedrock-runtime").converse(
        modelId=profile, messages=[{"role": "user", "content": [{"text": "Summarise the churn report."}]}],
        guardrailConfig={"guardrailIdentifier": arn, "guardrailVersion": version})


def run_pipeline(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: start a project's model-build pipeline (it runs as the pipeline's own
    role, which the project template created), then follow its steps with boto3."""
    from sagemaker.workflow.pipeline import Pipeline

    client = session.client("sagemaker")
    try:
        Pipeline(name=f"{s.team}-churn-build", sagemaker_session=_sagemaker_session(session, s)).start()
    except client.exceptions.ClientError:
        pass  # the SDK's account lookup after the start, which the emulator refuses
    arn = f"arn:aws:sagemaker:{s.region}:{s.account}:pipeline/{s.team}-churn-build/execution/abc123"
    try:
        client.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    except client.exceptions.ClientError:
        pass


def converse_unguarded(session, s: Sentinels, rec: Recorder) -> None:
    """boto3: Converse with no guardrail."""
    session.client("bedrock-runtime").converse(
        modelId=s.model_id, messages=[{"role": "user", "content": [{"text": "Summarise the churn report."}]}])


def converse_bypassing_profile(session, s: Sentinels, rec: Recorder) -> None:
    """boto3: Converse with the team's guardrail but on the model itself, not through the team's
    inference profile (a call no team budget would see)."""
    session.client("bedrock-runtime").converse(
        modelId=s.model_id, messages=[{"role": "user", "content": [{"text": "Summarise the churn report."}]}],
        guardrailConfig={"guardrailIdentifier": s.guardrail_arn, "guardrailVersion": "1"})


def edit_prompt(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 Bedrock Prompt Management: create a prompt tagged with the team, change it, version it."""
    client = session.client("bedrock-agent")
    prompt = client.create_prompt(name="summarise", tags={"fmops:team": s.team})["id"]
    client.update_prompt(promptIdentifier=prompt, name="summarise", variants=[])
    client.create_prompt_version(promptIdentifier=prompt)


def read_prompt(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 Bedrock Prompt Management: read a prompt."""
    session.client("bedrock-agent").get_prompt(promptIdentifier="PROMPT12345")


def read_logs(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 CloudWatch Logs: search the Bedrock invocation logs."""
    session.client("logs").filter_log_events(logGroupName=f"/{s.org}/bedrock/invocations", filterPattern="ERROR")


def change_guardrail(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 Bedrock: change a guardrail and publish a version."""
    client = session.client("bedrock")
    client.update_guardrail(guardrailIdentifier=s.guardrail_arn, name="team", blockedInputMessaging="blocked",
                            blockedOutputsMessaging="blocked")
    client.create_guardrail_version(guardrailIdentifier=s.guardrail_arn)


def add_endpoint(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 EC2: add an interface endpoint to an AWS service of the region."""
    session.client("ec2").create_vpc_endpoint(
        VpcId="vpc-0123456789abcdef0", ServiceName=f"com.amazonaws.{s.region}.sts", VpcEndpointType="Interface",
        SubnetIds=[s.subnet], SecurityGroupIds=[s.security_group], PrivateDnsEnabled=True)


def audit(session, s: Sentinels, rec: Recorder) -> None:
    """boto3: look up management events, and a Config rule's results."""
    session.client("cloudtrail").lookup_events(MaxResults=10)
    session.client("config").get_compliance_details_by_config_rule(ConfigRuleName=f"{s.org}-sagemaker-in-vpc")


def rate(session, s: Sentinels, rec: Recorder) -> None:
    """A SigV4-signed HTTPS POST to the application's private API (requests + botocore.auth).
    It is not a boto3 operation: the recorder records the signed request's method and path."""
    rec.calls.append({"actor": rec.actor, "service": "execute-api", "operation": "Invoke",
                      "params": {"api": "a1b2c3", "stage": "prod", "method": "POST", "path": "/feedback"}})


# -- adversarial workflows: each must fail for every persona -------------------------------------

def train_as_other_role(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: a training job that runs as a project role of the team (not one's own)."""
    from sagemaker.estimator import Estimator

    role = f"arn:aws:iam::{s.account}:role/{s.org}/{s.team}/projects/{s.team}-churn-pipeline"
    Estimator(image_uri=_image("xgboost", s, "1.7-1"), role=role, instance_count=1, instance_type="ml.m5.xlarge",
              subnets=[s.subnet], security_group_ids=[s.security_group], volume_kms_key=s.key_arn, output_kms_key=s.key_arn,
              output_path=f"s3://{s.bucket}/jobs/{s.team}-x/output", sagemaker_session=_sagemaker_session(session, s),
              tags=s.tags).fit({"train": f"s3://{s.bucket}/data/curated/"}, job_name=f"{s.team}-xgb-2", wait=False, logs=False)


def pass_role_to_lambda(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 Lambda: a function that runs as one's own job role."""
    session.client("lambda").create_function(
        FunctionName=f"{s.team}-fn", Runtime="python3.12", Role=s.job_role_arn, Handler="index.handler",
        Code={"ZipFile": b"PK"}, VpcConfig={"SubnetIds": [s.subnet], "SecurityGroupIds": [s.security_group]})


def open_other_studio(session, s: Sentinels, rec: Recorder) -> None:
    """boto3: open the Studio profile of another persona of the team."""
    session.client("sagemaker").create_presigned_domain_url(DomainId=s.domain_id,
                                                            UserProfileName=f"{s.team}-someone-else")


def register_approved(session, s: Sentinels, rec: Recorder) -> None:
    """SageMaker Python SDK: register a model version already Approved (skipping the gate)."""
    session.client("sagemaker").create_model_package_group(ModelPackageGroupName=f"{s.team}-models", Tags=s.tags)
    rec.calls.pop()
    _model(session, s).register(content_types=["text/csv"], response_types=["text/csv"],
                                inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"],
                                model_package_group_name=f"{s.team}-models", approval_status="Approved")


def rewrite_endpoint_policy(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 EC2: replace the policy of the account's S3 gateway endpoint."""
    session.client("ec2").modify_vpc_endpoint(VpcEndpointId="vpce-0123456789abcdef1", ResetPolicy=True)


def endpoint_to_foreign_service(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 EC2: an interface endpoint to a PrivateLink service of another account."""
    session.client("ec2").create_vpc_endpoint(
        VpcId="vpc-0123456789abcdef0", ServiceName=f"com.amazonaws.vpce.{s.region}.vpce-svc-0123456789abcdef0",
        VpcEndpointType="Interface", SubnetIds=[s.subnet], SecurityGroupIds=[s.security_group])


def app_without_image(session, s: Sentinels, rec: Recorder) -> None:
    """From Studio: JupyterLab in one's own space, with no image named (the request carries none)."""
    with rec.acting_as("studio-role"):
        session.client("sagemaker").create_app(DomainId=s.domain_id, SpaceName=f"{s.profile}-work",
                                               AppType="JupyterLab", AppName="default")


def app_on_unlisted_image(session, s: Sentinels, rec: Recorder) -> None:
    """From Studio: JupyterLab on an image outside the domain's list."""
    with rec.acting_as("studio-role"):
        session.client("sagemaker").create_app(
            DomainId=s.domain_id, SpaceName=f"{s.profile}-work", AppType="JupyterLab", AppName="default",
            ResourceSpec={"SageMakerImageArn": f"arn:aws:sagemaker:{s.region}:{s.account}:image/not-listed"})


def space_on_unlisted_image(session, s: Sentinels, rec: Recorder) -> None:
    """From Studio: change one's own space to default to an unlisted image."""
    with rec.acting_as("studio-role"):
        session.client("sagemaker").update_space(
            DomainId=s.domain_id, SpaceName=f"{s.profile}-work",
            SpaceSettings={"JupyterLabAppSettings": {"DefaultResourceSpec": {
                "SageMakerImageArn": f"arn:aws:sagemaker:{s.region}:{s.account}:image/not-listed"}}})


def _key_outside_service(actor: str) -> Client:
    def decrypt(session, s: Sentinels, rec: Recorder) -> None:
        with rec.acting_as(actor):
            kms = session.client("kms")
            try:
                kms.decrypt(CiphertextBlob=b"x" * 32, KeyId=s.key_arn)
            except kms.exceptions.ClientError:
                pass
    decrypt.__doc__ = f"boto3 KMS: decrypt with the team key directly, not through S3 (as the {actor})"
    return decrypt


# -- experiment tracking: the MLflow client with the sagemaker-mlflow plugin ---------------------
# The MLflow client sends the tracking server's REST API (SigV4-signed for the service
# "sagemaker-mlflow" through the aws.sagemaker.<region>.experiments endpoint); each REST call is
# authorized as the sagemaker-mlflow action of the same name on the server's ARN. It is not a
# boto3 operation (and MLflow is not installed in the platform's own environment): the recorder
# records each call's operation and server, as for `rate`. Artifacts go from the client straight
# to the artifact store with boto3 (S3, the bucket's default SSE-KMS), recorded from boto3.

def _mlflow(rec: Recorder, server_arn: str, operation: str, **params: Any) -> None:
    rec.calls.append({"actor": rec.actor, "service": "sagemaker-mlflow", "operation": operation,
                      "params": {"TrackingServerArn": server_arn, **params}})


def _tracking_uri(session, s: Sentinels, rec: Recorder) -> str:
    """The seed code's first step: the team's tracking server ARN from SSM (mlflow.set_tracking_uri(arn))."""
    ssm = session.client("ssm")
    name = naming.mlflow_parameter(s.org, s.team)
    ssm.put_parameter(Name=name, Value=s.mlflow_server_arn, Type="String")
    rec.calls.pop()  # the team stack writes it
    return ssm.get_parameter(Name=name)["Parameter"]["Value"]


def log_runs(session, s: Sentinels, rec: Recorder) -> None:
    """MLflow client (sagemaker-mlflow plugin): set the tracking URI to the team's server, then
    mlflow.set_experiment, start_run, log_params and log_metrics (one batch), log_artifact (S3) and
    end_run."""
    server = _tracking_uri(session, s, rec)
    _mlflow(rec, server, "GetExperimentByName", experiment_name=f"{s.team}-churn")
    _mlflow(rec, server, "CreateExperiment", name=f"{s.team}-churn")
    _mlflow(rec, server, "CreateRun", experiment_id="1", run_name="xgb-depth-6")
    _mlflow(rec, server, "LogBatch", run_id="r1", params=[{"key": "max_depth", "value": "6"}],
            metrics=[{"key": "auc", "value": 0.91, "step": 0}])
    session.client("s3").put_object(Bucket=s.bucket, Key=f"{naming.MLFLOW_PREFIX}/1/r1/artifacts/model/model.pkl",
                                    Body=b"m" * 64)
    _mlflow(rec, server, "UpdateRun", run_id="r1", status="FINISHED")


def read_runs(session, s: Sentinels, rec: Recorder) -> None:
    """boto3 then the MLflow client: open the MLflow UI (a presigned URL of the team's server), then
    mlflow.search_runs, get_run, the metric history and an artifact (S3)."""
    server = _tracking_uri(session, s, rec)
    session.client("sagemaker").create_presigned_mlflow_tracking_server_url(
        TrackingServerName=server.rsplit("/", 1)[-1], ExpiresInSeconds=60)
    _mlflow(rec, server, "SearchExperiments", max_results=100)
    _mlflow(rec, server, "SearchRuns", experiment_ids=["1"])
    _mlflow(rec, server, "GetRun", run_id="r1")
    _mlflow(rec, server, "GetMetricHistory", run_id="r1", metric_key="auc")
    client = session.client("s3")
    key = f"{naming.MLFLOW_PREFIX}/1/r1/artifacts/model/model.pkl"
    client.put_object(Bucket=s.bucket, Key=key, Body=b"m" * 64)
    rec.calls.pop()
    client.get_object(Bucket=s.bucket, Key=key)["Body"].read()


def log_runs_other_team(session, s: Sentinels, rec: Recorder) -> None:
    """MLflow client: log a run to another team's tracking server of the account."""
    server = replace(s, team="otherteam").mlflow_server_arn
    _mlflow(rec, server, "CreateRun", experiment_id="1", run_name="x")
    _mlflow(rec, server, "LogBatch", run_id="r9", metrics=[{"key": "auc", "value": 0.5, "step": 0}])


def open_other_mlflow(session, s: Sentinels, rec: Recorder) -> None:
    """boto3: a presigned URL of another team's tracking server (its MLflow UI)."""
    session.client("sagemaker").create_presigned_mlflow_tracking_server_url(
        TrackingServerName=naming.mlflow_tracking_server_name(s.org, "otherteam"), ExpiresInSeconds=60)


@dataclass(frozen=True)
class Workflow:
    name: str
    client: Client
    tool: str  # the client, as the person uses it


SDK, BOTO3, CONSOLE = "SageMaker Python SDK", "boto3", "console and Studio (boto3 calls of the same operations)"
MLFLOW = "MLflow client with the sagemaker-mlflow plugin (SigV4 REST)"
WORKFLOWS: dict[str, Workflow] = {w.name: w for w in [
    Workflow("train", train, f"{SDK} Estimator.fit"), Workflow("process", process, f"{SDK} Processor.run"),
    Workflow("describe-training", describe_training, BOTO3), Workflow("deploy", deploy, f"{SDK} Model.deploy"),
    Workflow("describe-endpoint", describe_endpoint, BOTO3), Workflow("register", register, f"{SDK} Model.register"),
    Workflow("approve", approve, BOTO3), Workflow("describe-package", describe_package, BOTO3),
    Workflow("put-data", _object("data/curated/table.parquet"), BOTO3),
    Workflow("get-data", _read("data/curated/table.parquet"), BOTO3),
    Workflow("put-labels", _object("labeling/batch-1/labels.jsonl"), BOTO3),
    Workflow("get-labels", _read("labeling/batch-1/items.jsonl"), BOTO3),
    Workflow("upload-weights", upload_weights, f"{BOTO3} upload_fileobj (multipart)"),
    Workflow("get-weights", _read("models/teamx-flan-t5/model.tar.gz"), BOTO3),
    Workflow("put-prompt-tests", _object("prompt-tests/run-7/results.json"), BOTO3),
    Workflow("get-prompt-tests", _read("prompt-tests/run-7/results.json"), BOTO3),
    Workflow("other-team-data", _read("data/curated/table.parquet", team="otherteam"), BOTO3),
    Workflow("train-outside-vpc", train_outside_vpc, f"{SDK} Estimator.fit"),
    Workflow("converse-unguarded", converse_unguarded, f"{BOTO3} Converse"),
    Workflow("open-studio", open_studio, CONSOLE), Workflow("list-profiles", list_profiles, CONSOLE),
    Workflow("provision", provision, f"{BOTO3} Service Catalog and SageMaker projects"),
    Workflow("run-pipeline", run_pipeline, f"{SDK} Pipeline.start"), Workflow("converse", converse, f"{BOTO3} Converse"),
    Workflow("edit-prompt", edit_prompt, BOTO3), Workflow("read-prompt", read_prompt, BOTO3),
    Workflow("read-logs", read_logs, BOTO3), Workflow("change-guardrail", change_guardrail, BOTO3),
    Workflow("add-endpoint", add_endpoint, BOTO3), Workflow("audit", audit, BOTO3),
    Workflow("rate", rate, "requests + botocore SigV4Auth"),
    Workflow("train-as-other-role", train_as_other_role, f"{SDK} Estimator.fit"),
    Workflow("pass-role-to-lambda", pass_role_to_lambda, BOTO3),
    Workflow("open-other-studio", open_other_studio, BOTO3),
    Workflow("register-approved", register_approved, f"{SDK} Model.register"),
    Workflow("rewrite-endpoint-policy", rewrite_endpoint_policy, BOTO3),
    Workflow("endpoint-to-foreign-service", endpoint_to_foreign_service, BOTO3),
    Workflow("app-without-image", app_without_image, BOTO3), Workflow("app-on-unlisted-image", app_on_unlisted_image, BOTO3),
    Workflow("space-on-unlisted-image", space_on_unlisted_image, BOTO3),
    Workflow("converse-bypassing-profile", converse_bypassing_profile, f"{BOTO3} Converse"),
    Workflow("key-outside-service", _key_outside_service("persona"), BOTO3),
    Workflow("studio-key-outside-service", _key_outside_service("studio-role"), BOTO3),
    Workflow("log-runs", log_runs, MLFLOW), Workflow("read-runs", read_runs, f"{BOTO3} and {MLFLOW}"),
    Workflow("log-runs-other-team", log_runs_other_team, MLFLOW),
    Workflow("open-other-mlflow", open_other_mlflow, BOTO3),
]}
