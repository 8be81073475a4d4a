"""SageMaker pipelines of project templates, defined in the template (``AWS::SageMaker::Pipeline``).

:class:`PipelineDefinition` writes the pipeline definition JSON (format ``2020-12-01``, the one the
SageMaker Python SDK emits) from a few step builders. Every job it defines runs in the VPC's
isolated subnets with the team's project security group, encrypts its volume and output with
the project key, pulls its image (AWS-provided by default, or a custom one of the organisation's
ECR mirror: :meth:`~fmops_constructs.product.stack.ProjectProductStack.image`) and reads its code from a
zip bundle in S3 (the project's code, see :mod:`fmops_constructs.project_code`): a short
bootstrap in the container entrypoint unzips it and runs the step's script, so any Python image
works and nothing is downloaded from the internet.

:class:`ProjectPipeline` is the ``CfnPipeline`` with its execution role.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from fmops_constructs.cfn_text import json_text
from fmops_constructs.product import Grant, PlatformValue, ProjectProductStack, ProjectRole, network_interface_grants

VERSION = "2020-12-01"
PROCESSING_CODE = "/opt/ml/processing/input/code"
TRAINING_CODE = "/opt/ml/input/data/code"
# The container entrypoint: unzip the code bundle, then run the step's script as __main__ with
# the step's arguments (each entrypoint item must stay under 256 characters).
BOOTSTRAP = ("import glob,runpy,sys,zipfile;zipfile.ZipFile(glob.glob('{code}/*.zip')[0]).extractall('/opt/ml/code');"
             "sys.path.insert(0,'/opt/ml/code');sys.argv=sys.argv[1:];"
             "runpy.run_path('/opt/ml/code/'+sys.argv[0],run_name='__main__')")
JOB_LOG_GROUPS = ("/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs")


def get(path: str) -> dict[str, str]:
    """A reference in the definition: ``Parameters.X``, ``Execution.PipelineExecutionId``, ``Steps...``."""
    return {"Get": path}


def join(*values: Any, on: str = "/") -> dict[str, Any]:
    return {"Std:Join": {"On": on, "Values": list(values)}}


@dataclass(frozen=True)
class JobSettings:
    """What every job of a project pipeline shares."""

    role_arn: str
    subnets: list[str]
    security_group: str
    key_arn: str
    code_uri: Any
    run_prefix: str  # s3://bucket/projects/<project>/runs

    def run_uri(self, *parts: Any) -> dict[str, Any]:
        """``<run_prefix>/<execution id>/<parts...>``: each execution writes below its own prefix."""
        return join(self.run_prefix, get("Execution.PipelineExecutionId"), *parts)

    @property
    def network(self) -> dict[str, Any]:
        return {"EnableNetworkIsolation": False, "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": {"Subnets": self.subnets, "SecurityGroupIds": [self.security_group]}}


class PipelineDefinition:
    """A SageMaker pipeline definition assembled from parameters and steps."""

    def __init__(self, jobs: JobSettings) -> None:
        self.jobs = jobs
        self.parameters: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []

    def code_parameter(self) -> dict[str, str]:
        """Make the code bundle a pipeline parameter (``CodeBundle``, default: the project's code),
        so an execution can run another bundle (the s3 source's way to iterate)."""
        reference = self.parameter("CodeBundle", "String", self.jobs.code_uri)
        self.jobs = replace(self.jobs, code_uri=reference)
        return reference

    def parameter(self, name: str, kind: str, default: Any) -> dict[str, str]:
        """Declare a pipeline parameter (String, Integer, Float) and return its reference."""
        self.parameters.append({"Name": name, "Type": kind, "DefaultValue": default})
        return get(f"Parameters.{name}")

    def processing(self, name: str, *, image: Any, script: str, instance_type: Any,
                   inputs: Mapping[str, Any] | None = None, outputs: Sequence[str] | Mapping[str, Any] = (),
                   arguments: Sequence[Any] = (), property_file: str | None = None,
                   environment: Mapping[str, Any] | None = None, depends_on: Sequence[str] = ()) -> dict[str, Any]:
        """A processing step: ``inputs`` (name -> S3 URI) under /opt/ml/processing/input/<name>,
        ``outputs`` from /opt/ml/processing/output/<name> to this execution's prefix (or, given as
        a mapping, to the URI of each name). A property file ``<name>.json`` in the first output
        makes its values available to conditions."""
        jobs = self.jobs
        destinations = dict(outputs) if isinstance(outputs, Mapping) else {key: jobs.run_uri(name, key)
                                                                           for key in outputs}
        channel_inputs = [{"InputName": "code", "S3Input": _s3_input(jobs.code_uri, PROCESSING_CODE)}]
        channel_inputs += [{"InputName": key, "S3Input": _s3_input(uri, f"/opt/ml/processing/input/{key}")}
                           for key, uri in (inputs or {}).items()]
        step: dict[str, Any] = {
            "Name": name, "Type": "Processing",
            "Arguments": {
                "ProcessingResources": {"ClusterConfig": {"InstanceType": instance_type, "InstanceCount": 1,
                                                          "VolumeSizeInGB": 50, "VolumeKmsKeyId": jobs.key_arn}},
                "AppSpecification": {"ImageUri": image,
                                     "ContainerEntrypoint": ["python3", "-c", BOOTSTRAP.format(code=PROCESSING_CODE)],
                                     "ContainerArguments": [script, *arguments]},
                "RoleArn": jobs.role_arn,
                "ProcessingInputs": channel_inputs,
                "ProcessingOutputConfig": {"KmsKeyId": jobs.key_arn, "Outputs": [
                    {"OutputName": key, "AppManaged": False, "S3Output": {
                        "S3Uri": uri, "LocalPath": f"/opt/ml/processing/output/{key}",
                        "S3UploadMode": "EndOfJob"}} for key, uri in destinations.items()]},
                "NetworkConfig": jobs.network,
                "StoppingCondition": {"MaxRuntimeInSeconds": 3 * 3600},
                **({"Environment": dict(environment)} if environment else {}),
            },
        }
        if property_file:
            step["PropertyFiles"] = [{"PropertyFileName": property_file, "OutputName": next(iter(destinations)),
                                      "FilePath": f"{property_file.lower()}.json"}]
        return self._add(step, depends_on)

    def training(self, name: str, *, image: Any, instance_type: Any, channels: Mapping[str, Any],
                 script: str | None = None, arguments: Sequence[Any] = (),
                 hyperparameters: Mapping[str, Any] | None = None, content_type: str | None = None,
                 max_hours: int = 12, depends_on: Sequence[str] = ()) -> dict[str, Any]:
        """A training job: with ``script``, the container runs it from the code bundle (a
        ``code`` channel) with ``arguments``; without, the image's own algorithm runs with
        ``hyperparameters`` (a SageMaker built-in algorithm). ``channels`` (name -> S3 URI)
        arrive under /opt/ml/input/data/<name>; the model is saved from /opt/ml/model."""
        jobs = self.jobs
        algorithm: dict[str, Any] = {"TrainingImage": image, "TrainingInputMode": "File"}
        if script is not None:
            algorithm.update({"ContainerEntrypoint": ["python3", "-c", BOOTSTRAP.format(code=TRAINING_CODE)],
                              "ContainerArguments": [script, *arguments]})
            channels = {"code": jobs.code_uri, **channels}
        step: dict[str, Any] = {
            "Name": name, "Type": "Training",
            "Arguments": {
                "AlgorithmSpecification": algorithm,
                "RoleArn": jobs.role_arn,
                "InputDataConfig": [
                    {"ChannelName": key, "DataSource": {"S3DataSource": {
                        "S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}},
                     **({"ContentType": content_type} if content_type and key != "code" else {})}
                    for key, uri in channels.items()],
                "OutputDataConfig": {"S3OutputPath": jobs.run_uri(name), "KmsKeyId": jobs.key_arn},
                "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 100,
                                   "VolumeKmsKeyId": jobs.key_arn},
                "StoppingCondition": {"MaxRuntimeInSeconds": max_hours * 3600},
                "VpcConfig": jobs.network["VpcConfig"],
                "EnableNetworkIsolation": False,
                "EnableInterContainerTrafficEncryption": True,
            },
        }
        if hyperparameters:
            step["Arguments"]["HyperParameters"] = dict(hyperparameters)
        return self._add(step, depends_on)

    def register(self, name: str, *, group: str, image: Any, model_data: Any, status: Any,
                 instance_types: Sequence[str], metrics_uri: Any, tags: Mapping[str, Any]) -> dict[str, Any]:
        """Register the trained model in ``group`` with ``status`` (PendingManualApproval) and
        the evaluation report as its model-quality statistics."""
        return {
            "Name": name, "Type": "RegisterModel",
            "Arguments": {
                "ModelPackageGroupName": group,
                "ModelApprovalStatus": status,
                "InferenceSpecification": {
                    "Containers": [{"Image": image, "ModelDataUrl": model_data}],
                    "SupportedContentTypes": ["application/json", "text/csv"],
                    "SupportedResponseMIMETypes": ["application/json", "text/csv"],
                    "SupportedRealtimeInferenceInstanceTypes": list(instance_types),
                },
                "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                                 "S3Uri": metrics_uri}}},
                "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
            },
        }

    def fail(self, name: str, message: Any) -> dict[str, Any]:
        return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}}

    def condition_at_least(self, name: str, *, property_file_step: str, property_file: str, path: str,
                           minimum: Any, if_steps: Sequence[dict[str, Any]],
                           else_steps: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Go on with ``if_steps`` when the JSON value at ``path`` of a step's property file is at
        least ``minimum``, else ``else_steps``."""
        value = {"Std:JsonGet": {"PropertyFile": get(f"Steps.{property_file_step}.PropertyFiles.{property_file}"),
                                 "Path": path}}
        return self._add({"Name": name, "Type": "Condition", "Arguments": {
            "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": value, "RightValue": minimum}],
            "IfSteps": list(if_steps), "ElseSteps": list(else_steps)}}, ())

    def evaluate_and_register(self, *, image: Any, instance_type: str, inputs: Mapping[str, Any], model_data: Any,
                              metric: str, minimum: Any, check: str, failure: str, label: str,
                              registration: Mapping[str, Any], environment: Mapping[str, Any] | None = None) -> None:
        """The gate a model pipeline ends with: ``Evaluate`` runs ``evaluate.py``, which writes
        ``evaluation.json``; then ``check`` registers the model (``register`` with
        ``registration``, the report as its statistics) when ``metrics.<metric>.value`` is at least
        ``minimum``, else fails as ``failure`` with "<label> below <minimum>". ``environment``: the
        evaluation job's (the MLflow run it logs, see ``ProjectProductStack.mlflow_environment``)."""
        self.processing("Evaluate", image=image, script="evaluate.py", instance_type=instance_type,
                        inputs=inputs, outputs=["evaluation"], property_file="Evaluation", environment=environment)
        report = join(get("Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"),
                      "evaluation.json")
        register = self.register("Register", model_data=model_data, metrics_uri=report, **registration)
        failed = self.fail(failure, join(f"{label} below", minimum, "- the model was not registered", on=" "))
        self.condition_at_least(check, property_file_step="Evaluate", property_file="Evaluation",
                                path=f"metrics.{metric}.value", minimum=minimum, if_steps=[register],
                                else_steps=[failed])

    def _add(self, step: dict[str, Any], depends_on: Sequence[str]) -> dict[str, Any]:
        if depends_on:
            step["DependsOn"] = list(depends_on)
        self.steps.append(step)
        return step

    def document(self) -> dict[str, Any]:
        return {"Version": VERSION, "Metadata": {}, "Parameters": self.parameters,
                "PipelineExperimentConfig": {"ExperimentName": get("Execution.PipelineName"),
                                             "TrialName": get("Execution.PipelineExecutionId")},
                "Steps": self.steps}


def _s3_input(uri: Any, local_path: str) -> dict[str, Any]:
    return {"S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated"}


def pipeline_grants(stack: ProjectProductStack, *, code_objects: Sequence[str]) -> list[Grant]:
    """What a project pipeline's execution role needs besides its own pass-role: the jobs the
    pipeline starts (SageMaker names them ``pipelines-*``), the project's prefix in the team
    bucket, the team's data and staged models, the code bundle, the keys, the images it runs
    (AWS-provided, or custom ones of the organisation's mirror), job logs and the network
    interfaces of jobs in the VPC."""
    bucket = f"arn:${{AWS::Partition}}:s3:::{stack.team_bucket_template}"
    sagemaker_arn = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
    logs_arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group"
    grants = [
        Grant(("sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
               "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
               "sagemaker:AddTags"),
              (f"{sagemaker_arn}:processing-job/pipelines-*", f"{sagemaker_arn}:training-job/pipelines-*")),
        Grant(("s3:GetObject", "s3:PutObject"), (f"{bucket}/{stack.project_prefix}*",)),
        Grant(("s3:GetObject",), (f"{bucket}/data/*", f"{bucket}/models/*", *code_objects)),
        Grant(("s3:ListBucket",), (bucket,)),
        Grant(("kms:Decrypt",), (stack.data_key.key_arn,)),
        Grant(("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"), (stack.project_key.key_arn,)),
        Grant(("kms:CreateGrant",), (stack.project_key.key_arn,), {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        Grant(("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
              tuple(f"{logs_arn}:{group}:*" for group in JOB_LOG_GROUPS)),
        *network_interface_grants(),
        Grant(("cloudwatch:PutMetricData",), ("*",), {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
    ]
    if stack.image_repository_arns:
        grants.append(image_pull_grant(stack))
    return grants


def image_pull_grant(stack: ProjectProductStack) -> Grant:
    """Pulls of the images a product's jobs and models run (:meth:`ProjectProductStack.image`):
    each AWS-provided image's repository in its AWS-owned registry, and each slot's custom-image
    repository of the organisation's mirror."""
    if not stack.image_repository_arns:
        raise ValueError("the product named no image (ProjectProductStack.image)")
    return Grant(("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
                 tuple(stack.image_repository_arns))


class ProjectPipeline(Construct):
    """A project's SageMaker pipeline and its execution role (bounded, under the project path).

    :param build: called with the :class:`JobSettings` (the role exists by then), returns the
        definition.
    :param code_objects: S3 object ARNs (``Fn::Sub`` text) of the code bundle, for the role.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack, name_suffix: str,
                 description: str, code_uri: str, code_objects: Sequence[str],
                 build: Callable[[JobSettings], PipelineDefinition], extra_grants: Sequence[Grant] = ()) -> None:
        super().__init__(scope, construct_id)
        self.role = ProjectRole(
            self, "Execution", service="sagemaker.amazonaws.com", description=f"Pipeline {name_suffix} of a project",
            grants=[*pipeline_grants(stack, code_objects=code_objects), *extra_grants],
            why="a project pipeline's execution role: jobs named pipelines-* by SageMaker, the project's prefix "
                "and the team's data/ and models/ prefixes in the team bucket, SageMaker job log groups; ENI, ECR login and Describe calls have no resource-level scope")
        self.role.add_grants(Grant(("iam:PassRole",), (self.role.role_arn,),
                                   {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
        self.jobs = JobSettings(
            role_arn=self.role.role_arn, subnets=stack.platform_list(PlatformValue.SUBNET_IDS),
            security_group=stack.platform_string(PlatformValue.SECURITY_GROUP_ID),
            key_arn=stack.project_key.key_arn, code_uri=code_uri,
            run_prefix=stack.team_bucket_uri(stack.project_prefix + "runs"))
        self.definition: PipelineDefinition = build(self.jobs)
        self.pipeline_name = stack.resource_name(name_suffix)
        self.pipeline = sagemaker.CfnPipeline(
            self, "Pipeline", pipeline_name=self.pipeline_name, pipeline_description=description,
            role_arn=self.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": json_text(self.definition.document())},
        )
        self.pipeline.node.add_dependency(self.role)
