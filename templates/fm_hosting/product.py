"""FM hosting: a model of the FM catalog on a private SageMaker endpoint (the FmEndpoint construct),
weights staged in the team bucket, serving image from the organisation's ECR mirror, data
capture to the project's prefix, alarms to the project's topic."""

from __future__ import annotations

from aws_cdk import CfnOutput, CfnRule, CfnRuleAssertion, Fn, RemovalPolicy
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.fm_endpoint import FmEndpoint, FmEndpointRef
from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from fmops_constructs.project import PlatformValue, ProjectProductStack, ProjectTemplateProps

SERVING_REPOSITORY = "huggingface-pytorch-tgi-inference"
SERVING_TAG = "2.4-tgi2.4-gpu-py311"


def instances_that_fit(instance_type: str) -> list[str]:
    """GPU instance types with at least the accelerators and memory of ``instance_type``."""
    need = GPU_INSTANCE_TYPES[instance_type]
    return [name for name, offer in GPU_INSTANCE_TYPES.items()
            if offer.accelerators >= need.accelerators and offer.memory_gib >= need.memory_gib]


class FmHostingProduct(ProjectProductStack):
    """The product stack of the fm-hosting template.

    The user picks a catalog model (``Model``) and an instance type; a template rule refuses an
    instance smaller than the catalog's for that model, so a bad pair fails before anything is
    created. The endpoint is named ``<team>-<project>`` (the persona matrix's endpoint prefix).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ProjectTemplateProps, description: str) -> None:
        super().__init__(scope, construct_id, props=props, description=description)
        if not props.hosting_models or props.images is None:
            raise ValueError("fm-hosting needs catalog models the team may host and the organisation's image registry")
        models = dict(sorted(props.hosting_models.items()))
        instance_types = sorted({t for needed in models.values() for t in instances_that_fit(needed)})
        model = self.choice("Model", type="String", allowed_values=list(models),
                            description="FM catalog id of the model (config/fm-catalog.yaml)")
        instance = self.choice("InstanceType", type="String", allowed_values=instance_types,
                               default=models[next(iter(models))],
                               description="GPU instance type; at least the catalog's for the model")
        weights = self.choice("WeightsFolder", type="String",
                              allowed_pattern="^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$",
                              constraint_description="folder names of letters, digits, . _ -, not starting with a dot",
                              description="Folder below models/ in the team bucket holding the staged weights")
        repository = self.choice("ImageRepository", type="String", default=f"{props.images.namespace}/{SERVING_REPOSITORY}",
                                 allowed_pattern=f"^{props.images.namespace}/[a-z0-9._/-]+$",
                                 description="Serving image repository in the organisation's ECR mirror")
        tag = self.choice("ImageTag", type="String", default=SERVING_TAG, allowed_pattern="^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
                          description="Serving image tag")
        max_instances = self.choice("MaxInstances", type="Number", default=2, min_value=1, max_value=10,
                                    description="Autoscaling ceiling")
        for model_id, needed in models.items():
            CfnRule(self, f"InstanceFor{''.join(p.capitalize() for p in model_id.split('-'))}",
                    rule_condition=Fn.condition_equals(model.value_as_string, model_id),
                    assertions=[CfnRuleAssertion(
                        assert_=Fn.condition_contains(instances_that_fit(needed), instance.value_as_string),
                        assert_description=f"{model_id} needs at least {needed} (accelerators and memory)")])
        subnets = self.platform_list(PlatformValue.SUBNET_IDS)
        vpc = ec2.Vpc.from_vpc_attributes(self, "Vpc", vpc_id=self.platform_string(PlatformValue.VPC_ID),
                                          availability_zones=[Fn.select(0, Fn.get_azs())],
                                          isolated_subnet_ids=[Fn.select(0, subnets)])
        acknowledge(vpc, "project-vpc-from-parameters")
        bucket = Fn.sub(self.team_bucket_template)
        capture = f"s3://{bucket}/projects/{self.project_name}/data-capture/"
        topic = self.notification_topic("Alarms")
        name = self.resource_name()
        log_group = logs.CfnLogGroup(self, "EndpointLogs", log_group_name=FmEndpointRef(name).log_group_names[0],
                                     kms_key_id=self.project_key.key_arn, retention_in_days=props.log_retention_days)
        log_group.apply_removal_policy(RemovalPolicy.RETAIN)
        endpoint = FmEndpoint(
            self, "Endpoint", endpoint_name=name, vpc=vpc,
            image=f"{props.images.host}/{repository.value_as_string}:{tag.value_as_string}",
            model_data_url=f"s3://{bucket}/models/{weights.value_as_string}/",
            instance_type=models[next(iter(models))], encryption_key=self.project_key, data_capture_uri=capture,
            log_groups=[logs.LogGroup.from_log_group_arn(self, "EndpointLogGroup", log_group.attr_arn)],
            alarm_action=cw_actions.SnsAction(topic), min_instances=1, max_instances=2)
        # The endpoint's choices come from the parameters, checked by the rules above; its security
        # group gets a literal description (the construct's names the endpoint, a deploy-time value).
        endpoint.security_group.node.default_child.group_description = (  # type: ignore[union-attr]
            "Project FM endpoint: HTTPS to VPC endpoints only, no ingress")
        endpoint.endpoint_config.add_property_override("ProductionVariants.0.InstanceType", instance.value_as_string)
        endpoint.model.add_property_override("VpcConfig.Subnets", subnets)
        endpoint.scalable_target.node.default_child.add_property_override(  # type: ignore[union-attr]
            "MaxCapacity", max_instances.value_as_number)
        endpoint.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:ListBucket"],
            resources=[Fn.sub(f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}"),
                       Fn.sub(f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/models/${{WeightsFolder}}/*")]))
        endpoint.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:PutObject"],
            resources=[Fn.sub(f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/{self.project_prefix}"
                              "data-capture/*")]))
        endpoint.role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.data_key.key_arn]))
        endpoint.endpoint.node.add_dependency(endpoint.role)
        CfnOutput(self, "EndpointName", value=endpoint.endpoint_name,
                  description="Invoke through the VPC's sagemaker.runtime endpoint (seed: smoke_test.py)")
        CfnOutput(self, "DataCaptureLocation", value=capture, description="Sampled requests and responses")
