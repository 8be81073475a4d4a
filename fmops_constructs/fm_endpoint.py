"""A foundation model hosted privately on a SageMaker real-time endpoint.

Two hostings, chosen by ``min_instances``:

* ``min_instances >= 1``: the model is the endpoint's production variant; Application Auto
  Scaling tracks invocations per instance between min and max instances.
* ``min_instances == 0``: SageMaker scales an endpoint to zero instances only when it hosts
  inference components, so the model becomes one inference component (one copy fills one
  instance). The variant's managed instance scaling goes down to 0 instances, target tracking
  follows invocations per copy down to 0 copies, and a step-scaling policy on the
  ``NoCapacityInvocationFailures`` alarm brings the first copy back when a request arrives
  (requests fail for the minutes an instance takes to start).

Either way: the container runs in the VPC's isolated subnets with network isolation, its
image comes from ECR and its weights from staged S3 objects (``HF_MODEL_ID`` points at
``/opt/ml/model``, hub access is switched off), the ML storage volume and captured data are
encrypted with the given KMS key, and requests and responses are sampled to S3.

S3 access is the buckets' business: the weights bucket must let :attr:`FmEndpoint.role` read
and the capture bucket let it write (bucket policies on its name when the buckets live in
another stack, or ``bucket.grant_read(endpoint.role)`` in the same one).

Instead of staged weights, the endpoint may serve a registered model package (the image and the
``model.tar.gz`` its inference specification names), under a CloudFormation condition:
:meth:`FmEndpoint.serve_model_package`. The container keeps the offline environment (the
package's ``model.tar.gz`` is unpacked into ``/opt/ml/model``) and everything else stays: VPC,
network isolation, KMS, data capture, autoscaling, alarms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, CfnCondition, Duration, Fn, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from fmops_constructs.vpc_egress import endpoints_only_security_group
from fmops_constructs.sagemaker_images import ecr_parts

VARIANT = "AllTraffic"
LOCAL_MODEL_DIR = "/opt/ml/model"
# The container loads the staged weights from the local model directory and never calls a hub.
OFFLINE_ENVIRONMENT = {"HF_MODEL_ID": LOCAL_MODEL_DIR, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
STARTUP_TIMEOUT_SECONDS = 900
DOWNLOAD_TIMEOUT_SECONDS = 1800
# Share of an instance's memory one inference-component copy reserves (the rest is left to
# SageMaker's agents on the instance).
COPY_MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class FmEndpointRef:
    """What other stacks know of an FM endpoint before it exists: its names, the log groups
    SageMaker writes its container logs to, and its CloudWatch metrics.

    At scale to zero the model is an inference component: it logs and reports per component.
    """

    endpoint_name: str
    scales_to_zero: bool = False

    @property
    def inference_component_name(self) -> str | None:
        return f"{self.endpoint_name}-model" if self.scales_to_zero else None

    @property
    def log_group_names(self) -> list[str]:
        names = [f"/aws/sagemaker/Endpoints/{self.endpoint_name}"]
        if self.inference_component_name:
            names.append(f"/aws/sagemaker/InferenceComponents/{self.inference_component_name}")
        return names

    @property
    def dimensions(self) -> dict[str, str]:
        if self.inference_component_name:
            return {"InferenceComponentName": self.inference_component_name}
        return {"EndpointName": self.endpoint_name, "VariantName": VARIANT}

    def metric(self, name: str, statistic: str = "Sum", period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="AWS/SageMaker", metric_name=name, dimensions_map=self.dimensions,
                                 statistic=statistic, period=period)

    def invocations(self) -> cloudwatch.Metric:
        return self.metric("Invocations")

    def model_latency(self) -> cloudwatch.Metric:
        """ModelLatency p90, in microseconds."""
        return self.metric("ModelLatency", statistic="p90")

    def server_errors(self) -> cloudwatch.Metric:
        return self.metric("Invocation5XXErrors")


class FmEndpoint(Construct):
    """A catalog model on a private, autoscaled, monitored SageMaker endpoint.

    :param endpoint_name: the endpoint's name (also names its log group and alarms).
    :param vpc: the internet-free VPC; the model runs in its isolated subnets.
    :param image: ECR image URI of the serving container.
    :param model_data_url: the staged weights: ``s3://bucket/prefix/`` (uncompressed files) or
        ``s3://bucket/key.tar.gz``.
    :param instance_type: one of ``GPU_INSTANCE_TYPES``.
    :param encryption_key: encrypts the ML storage volume and captured data.
    :param log_groups: the groups named by ``FmEndpointRef.log_group_names``, created beforehand
        with the other stateful resources (retained, so a failed start must not create them).
    :param data_capture_uri: ``s3://`` location for ``data_capture_percent`` % of requests and
        responses.
    :param role_name: name of the execution role, for bucket policies written before it exists.
    :param permissions_boundary: boundary of the execution role (the team's).
    :param latency_threshold: p90 model latency that raises the latency alarm.
    :param alarm_action: where the alarms notify (e.g. the team's SNS topic).
    :param image_repository_arns: the ECR repositories the execution role may pull from, when
        ``image`` is a deploy-time choice (e.g. an ``Fn::If`` of an AWS-provided image and a
        mirror image). Default: the repository ``image`` names.
    :param name_alarms: name the alarms ``<endpoint_name>-<metric>`` instead of letting
        CloudFormation generate their names (a role held to the endpoint's name prefix can then
        manage them). Default: false.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        vpc: ec2.IVpc,
        image: str,
        model_data_url: str,
        instance_type: str,
        encryption_key: kms.IKey,
        data_capture_uri: str,
        log_groups: Sequence[logs.ILogGroup],
        alarm_action: cloudwatch.IAlarmAction,
        min_instances: int = 1,
        max_instances: int = 2,
        target_invocations_per_instance: int = 30,
        data_capture_percent: int = 20,
        role_name: str | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
        environment: Mapping[str, str] | None = None,
        latency_threshold: Duration = Duration.seconds(30),
        image_repository_arns: Sequence[str] | None = None,
        name_alarms: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if instance_type not in GPU_INSTANCE_TYPES:
            raise ValueError(f"instance type {instance_type} is not one of {', '.join(GPU_INSTANCE_TYPES)}")
        if not model_data_url.startswith("s3://") or not model_data_url.endswith(("/", ".tar.gz")):
            raise ValueError(f"model_data_url {model_data_url} must be s3://bucket/prefix/ or s3://bucket/key.tar.gz")
        if not 0 <= min_instances <= max_instances or max_instances < 1:
            raise ValueError(f"need 0 <= min_instances ({min_instances}) <= max_instances ({max_instances}), max >= 1")
        self.endpoint_name = endpoint_name
        self._name_alarms = name_alarms
        self.scales_to_zero = min_instances == 0
        self.ref = FmEndpointRef(endpoint_name, self.scales_to_zero)
        self.inference_component_name = self.ref.inference_component_name
        if len(log_groups) != len(self.ref.log_group_names):
            raise ValueError(f"expected the log groups {self.ref.log_group_names}, got {len(log_groups)}")
        self._target = target_invocations_per_instance
        self._max_instances = max_instances
        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids

        self.security_group = endpoints_only_security_group(
            self, "SecurityGroup", vpc=vpc,
            description=f"SageMaker endpoint {endpoint_name}: HTTPS to VPC endpoints only, no ingress")
        self.role = iam.Role(self, "ExecutionRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                             role_name=role_name, permissions_boundary=permissions_boundary,
                             description=f"SageMaker endpoint {endpoint_name}: pull its image, read its weights")
        self._grant_execution(image, encryption_key, log_groups, image_repository_arns)

        self._image = image
        self._environment = {**dict(environment or {}), **OFFLINE_ENVIRONMENT}
        self._weights = _s3_data_source(model_data_url)
        self.model = sagemaker.CfnModel(
            self, "Model",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=True,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=subnets, security_group_ids=[self.security_group.security_group_id]),
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image,
                mode="SingleModel",
                environment=self._environment,
                model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(s3_data_source=self._weights),
            ),
        )
        self.model.node.add_dependency(self.role)
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self, "Config",
            kms_key_id=encryption_key.key_arn,
            production_variants=[self._variant(instance_type, min_instances, max_instances)],
            data_capture_config=data_capture(data_capture_uri, encryption_key.key_arn, data_capture_percent),
            **({"execution_role_arn": self.role.role_arn, "enable_network_isolation": True,
                "vpc_config": sagemaker.CfnEndpointConfig.VpcConfigProperty(
                    subnets=subnets, security_group_ids=[self.security_group.security_group_id])}
               if self.scales_to_zero else {}),
        )
        self.endpoint_config.node.add_dependency(self.role)
        self.endpoint = sagemaker.CfnEndpoint(self, "Endpoint", endpoint_name=endpoint_name,
                                              endpoint_config_name=self.endpoint_config.attr_endpoint_config_name)
        self.inference_component = self._component(instance_type) if self.scales_to_zero else None
        self.scalable_target = self._autoscaling(min_instances, max_instances)
        self.alarms = self._alarms(latency_threshold, alarm_action)

    def serve_model_package(self, package: str, *, when: CfnCondition) -> None:
        """Serve the registered model package ``package`` (name or ARN, versioned) instead of the
        staged weights when ``when`` holds.

        The model's single container then names the package (``ModelPackageName``: SageMaker takes
        the image and ``model.tar.gz`` from its inference specification) with the same offline
        environment; the model stays in the VPC with network isolation and the endpoint keeps its
        configuration (KMS, data capture, autoscaling, alarms). The execution role must be able to
        read the package's artifacts and pull its image: grant them where the buckets are known.
        """
        staged = {
            "Image": self._image,
            "Mode": "SingleModel",
            "Environment": self._environment,
            "ModelDataSource": {"S3DataSource": {"S3Uri": self._weights.s3_uri,
                                                 "S3DataType": self._weights.s3_data_type,
                                                 "CompressionType": self._weights.compression_type}},
        }
        registered = {"ModelPackageName": package, "Environment": self._environment}
        self.model.add_property_override(
            "PrimaryContainer", Fn.condition_if(when.logical_id, registered, staged).to_string())

    # -- building blocks -------------------------------------------------------------------
    def _grant_execution(self, image: str, key: kms.IKey, log_groups: Sequence[logs.ILogGroup],
                         repository_arns: Sequence[str] | None) -> None:
        stack = Stack.of(self)
        if repository_arns is None:
            account, region, repository = ecr_parts(image)
            repository_arns = [stack.format_arn(service="ecr", account=account, region=region, resource="repository",
                                                resource_name=repository, arn_format=ArnFormat.SLASH_RESOURCE_NAME)]
        role = self.role
        role.add_to_policy(iam.PolicyStatement(
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            resources=list(repository_arns)))
        key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
        # Identity-policy statements: LogGroup.grant would also write a resource policy on an
        # imported group.
        for group in log_groups:
            role.add_to_policy(iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[group.log_group_arn]))
        # Actions without resource-level permissions: the ECR login, reads of the network, the
        # endpoint's instance metrics, and the network interfaces SageMaker creates in the VPC's
        # subnets for the model (documented with Resource "*"; held to this Region).
        role.add_to_policy(iam.PolicyStatement(
            actions=["ecr:GetAuthorizationToken", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
                     "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
            resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}))
        role.add_to_policy(iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                     "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
            resources=["*"], conditions={"StringEquals": {"aws:RequestedRegion": stack.region}}))
        acknowledge(role, "scoped-inline-policy", "actions-without-resource-scope")

    def _variant(self, instance_type: str, min_instances: int,
                 max_instances: int) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        if not self.scales_to_zero:
            return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT, model_name=self.model.attr_model_name, instance_type=instance_type,
                initial_instance_count=min_instances, initial_variant_weight=1,
                container_startup_health_check_timeout_in_seconds=STARTUP_TIMEOUT_SECONDS,
                model_data_download_timeout_in_seconds=DOWNLOAD_TIMEOUT_SECONDS,
            )
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT, instance_type=instance_type, initial_instance_count=1,
            managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                status="ENABLED", min_instance_count=0, max_instance_count=max_instances),
            routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                routing_strategy="LEAST_OUTSTANDING_REQUESTS"),
        )

    def _component(self, instance_type: str) -> sagemaker.CfnInferenceComponent:
        resources = GPU_INSTANCE_TYPES[instance_type]
        component = sagemaker.CfnInferenceComponent(
            self, "Component",
            inference_component_name=self.inference_component_name,
            endpoint_name=self.endpoint.attr_endpoint_name,
            variant_name=VARIANT,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=self.model.attr_model_name,
                compute_resource_requirements=sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_accelerator_devices_required=resources.accelerators,
                    min_memory_required_in_mb=int(resources.memory_gib * 1024 * COPY_MEMORY_SHARE),
                ),
                startup_parameters=sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                    container_startup_health_check_timeout_in_seconds=STARTUP_TIMEOUT_SECONDS,
                    model_data_download_timeout_in_seconds=DOWNLOAD_TIMEOUT_SECONDS,
                ),
            ),
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(copy_count=1),
        )
        return component

    def _autoscaling(self, min_instances: int, max_instances: int) -> appscaling.ScalableTarget:
        if self.inference_component_name:
            resource_id = f"inference-component/{self.inference_component_name}"
            dimension, metric = ("sagemaker:inference-component:DesiredCopyCount",
                                 appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY)
        else:
            resource_id = f"endpoint/{self.endpoint_name}/variant/{VARIANT}"
            dimension, metric = ("sagemaker:variant:DesiredInstanceCount",
                                 appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE)
        target = appscaling.ScalableTarget(
            self, "Scaling", service_namespace=appscaling.ServiceNamespace.SAGEMAKER, resource_id=resource_id,
            scalable_dimension=dimension, min_capacity=min_instances, max_capacity=max_instances)
        target.node.add_dependency(self.inference_component or self.endpoint)
        target.scale_to_track_metric("TrackInvocations", predefined_metric=metric, target_value=self._target,
                                     scale_in_cooldown=Duration.minutes(10), scale_out_cooldown=Duration.minutes(2))
        if self.inference_component_name:
            self._scale_out_from_zero(target)
        return target

    def _scale_out_from_zero(self, target: appscaling.ScalableTarget) -> None:
        """A request that finds no copy raises NoCapacityInvocationFailures: add one copy."""
        step = appscaling.StepScalingAction(
            self, "ScaleOutFromZero", scaling_target=target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM, cooldown=Duration.minutes(1))
        step.add_adjustment(adjustment=1, lower_bound=0)
        alarm = cloudwatch.Alarm(
            self, "NoCapacityAlarm", alarm_name=self._alarm_name("no-capacity"),
            alarm_description=f"{self.endpoint_name}: a request found no model copy; start one",
            metric=self.ref.metric("NoCapacityInvocationFailures", statistic="Maximum",
                                       period=Duration.minutes(1)),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.ApplicationScalingAction(step))
        self.no_capacity_alarm = alarm

    def _alarm_name(self, metric: str) -> str | None:
        return f"{self.endpoint_name}-{metric}" if self._name_alarms else None

    def _alarms(self, latency_threshold: Duration, action: cloudwatch.IAlarmAction) -> list[cloudwatch.Alarm]:
        capacity_per_period = self._target * self._max_instances * 5
        alarms = [
            cloudwatch.Alarm(
                self, "LatencyAlarm", metric=self.ref.model_latency(), alarm_name=self._alarm_name("latency"),
                alarm_description=f"{self.endpoint_name}: p90 model latency above {latency_threshold.to_seconds()} s",
                threshold=latency_threshold.to_seconds() * 1_000_000, evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
            cloudwatch.Alarm(
                self, "ServerErrorsAlarm", metric=self.ref.server_errors(), alarm_name=self._alarm_name("5xx"),
                alarm_description=f"{self.endpoint_name}: the model container returns 5XX errors",
                threshold=5, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
            cloudwatch.Alarm(
                self, "InvocationsAlarm", metric=self.ref.invocations(), alarm_name=self._alarm_name("invocations"),
                alarm_description=(f"{self.endpoint_name}: invocations above what {self._max_instances} instances "
                                   f"serve at the scaling target; raise max_instances"),
                threshold=capacity_per_period, evaluation_periods=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(action)
        # A request that found no copy failed: the team hears of it too, not only the scaling policy.
        if getattr(self, "no_capacity_alarm", None) is not None:
            self.no_capacity_alarm.add_alarm_action(action)
        return alarms


def data_capture(destination_uri: str, key_arn: str,
                 percent: int = 20) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    """Capture of ``percent`` % of an endpoint's requests and responses into ``destination_uri``,
    encrypted with ``key_arn`` (the execution role needs ``s3:PutObject`` there and
    ``kms:GenerateDataKey`` on the key)."""
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True, initial_sampling_percentage=percent, destination_s3_uri=destination_uri,
        kms_key_id=key_arn,
        capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                         sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output")])


def _s3_data_source(model_data_url: str) -> sagemaker.CfnModel.S3DataSourceProperty:
    uncompressed = model_data_url.endswith("/")
    return sagemaker.CfnModel.S3DataSourceProperty(
        s3_uri=model_data_url,
        s3_data_type="S3Prefix" if uncompressed else "S3Object",
        compression_type="None" if uncompressed else "Gzip",
    )
