"""FM hosting: a model of the FM catalog on a private SageMaker endpoint (the FmEndpoint construct),
the AWS-provided TGI serving image (or a custom one of the organisation's ECR mirror), data capture to the project's prefix, alarms to
the team's alarm topic. The model is either weights staged in the team bucket or an approved model
package of the team's registry in this account (a fine-tuned model of fm-finetuning, or one
promoted from the team's previous stage account)."""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnOutput, CfnRule, CfnRuleAssertion, Fn, RemovalPolicy
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_logs as logs
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_resolved_wildcards
from fmops_constructs.log_group import acknowledge_log_group
from fmops_constructs.fm_endpoint import FmEndpoint, FmEndpointRef
from fmops_constructs.instance_types import GPU_INSTANCE_TYPES
from fmops_constructs.model_promotion import INCOMING
from fmops_constructs.product import PROJECTS, PlatformValue, ProjectProductStack, ProjectTemplateProps
from fmops_constructs.sagemaker_images import TGI_SERVING

IMAGES = {"serving": TGI_SERVING}
# The model packages it serves come from fm-finetuning, which registers them with its serving image.
PACKAGE_IMAGE = ("fm-finetuning", "serving")
WEIGHTS_FOLDER = "[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*"
# SageMaker training writes the model as model.tar.gz, and the promotion copies keep that name.
MODEL_ARTIFACT = "model.tar.gz"


def model_package_name_pattern(group_prefix: str) -> str:
    """A versioned model package of one of the team's groups, named as SageMaker names it
    (``<group>/<version>``, the group ``<group_prefix><project>``, the prefix ``<team>-``), or empty.
    A name, not an ARN: SageMaker resolves it in the account and Region of the stack, so only this
    account's registry is served."""
    return r"^$|^" + group_prefix + r"[A-Za-z0-9](-*[A-Za-z0-9])*/[1-9][0-9]{0,8}$"


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
        weights = self.choice("WeightsFolder", type="String", default="", allowed_pattern=f"^$|^{WEIGHTS_FOLDER}$",
                              constraint_description="folder names of letters, digits, . _ -, not starting with a dot",
                              description="Folder below models/ in the team bucket holding the staged weights "
                                          "(empty with ModelPackageName)")
        # At most a 63-character group name, "/" and a 9-digit version (SageMaker's limits).
        package = self.choice("ModelPackageName", type="String", default="", max_length=73,
                              allowed_pattern=model_package_name_pattern(self.name_prefix),
                              constraint_description=f"<group>/<version> of a model package of a group "
                                                     f"{self.name_prefix}* (e.g. {self.name_prefix}my-project/3), "
                                                     "or empty",
                              description="Approved model package of the team's registry in this account, "
                                          "<group>/<version>, to serve instead of staged weights (empty with "
                                          "WeightsFolder)")
        image = self.image("serving", IMAGES["serving"])
        max_instances = self.choice("MaxInstances", type="Number", default=2, min_value=1, max_value=10,
                                    description="Autoscaling ceiling")
        for model_id, needed in models.items():
            CfnRule(self, f"InstanceFor{''.join(p.capitalize() for p in model_id.split('-'))}",
                    rule_condition=Fn.condition_equals(model.value_as_string, model_id),
                    assertions=[CfnRuleAssertion(
                        assert_=Fn.condition_contains(instances_that_fit(needed), instance.value_as_string),
                        assert_description=f"{model_id} needs at least {needed} (accelerators and memory)")])
        no_weights = Fn.condition_equals(weights.value_as_string, "")
        no_package = Fn.condition_equals(package.value_as_string, "")
        CfnRule(self, "OneModelSource", assertions=[CfnRuleAssertion(
            assert_=Fn.condition_or(Fn.condition_and(Fn.condition_not(no_weights), no_package),
                                    Fn.condition_and(no_weights, Fn.condition_not(no_package))),
            assert_description="Set exactly one of WeightsFolder (staged weights) and ModelPackageName (an approved "
                               "model package)")])
        from_package = self.condition("FromModelPackage", Fn.condition_not(no_package))
        from_weights = self.condition("FromStagedWeights", no_package)
        subnets = self.platform_list(PlatformValue.SUBNET_IDS)
        vpc = ec2.Vpc.from_vpc_attributes(self, "Vpc", vpc_id=self.platform_string(PlatformValue.VPC_ID),
                                          availability_zones=[Fn.select(0, Fn.get_azs())],
                                          isolated_subnet_ids=[Fn.select(0, subnets)])
        acknowledge(vpc, "project-vpc-from-parameters")
        bucket = Fn.sub(self.team_bucket_template)
        capture = f"s3://{bucket}/{PROJECTS}/{self.project_name}/data-capture/"
        topic = sns.Topic.from_topic_arn(self, "TeamAlarms", self.platform_string(PlatformValue.ALARM_TOPIC_ARN))
        name = self.resource_name()
        log_group = logs.CfnLogGroup(self, "EndpointLogs", log_group_name=FmEndpointRef(name).log_group_names[0],
                                     kms_key_id=self.project_key.key_arn, retention_in_days=props.log_retention_days)
        log_group.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge_log_group(log_group, retention_days=props.log_retention_days, key_in_template=False)
        endpoint = FmEndpoint(
            self, "Endpoint", endpoint_name=name, vpc=vpc,
            image=image, image_repository_arns=[Fn.sub(arn) for arn in self._image_repositories()],
            model_data_url=f"s3://{bucket}/models/{weights.value_as_string}/",
            instance_type=models[next(iter(models))], encryption_key=self.project_key, data_capture_uri=capture,
            log_groups=[logs.LogGroup.from_log_group_arn(self, "EndpointLogGroup", log_group.attr_arn)],
            alarm_action=cw_actions.SnsAction(topic), min_instances=1, max_instances=2, name_alarms=True)
        # The endpoint's choices come from the parameters, checked by the rules above; its security
        # group gets a literal description (the construct's names the endpoint, a deploy-time value).
        endpoint.security_group.node.default_child.group_description = (  # type: ignore[union-attr]
            "Project FM endpoint: HTTPS to VPC endpoints only, no ingress")
        endpoint.endpoint_config.add_property_override("ProductionVariants.0.InstanceType", instance.value_as_string)
        endpoint.model.add_property_override("VpcConfig.Subnets", subnets)
        endpoint.scalable_target.node.default_child.add_property_override(  # type: ignore[union-attr]
            "MaxCapacity", max_instances.value_as_number)
        endpoint.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:PutObject"],
            resources=[Fn.sub(f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/{self.project_prefix}"
                              "data-capture/*")]))
        endpoint.serve_model_package(package.value_as_string, when=from_package)
        self._model_access(endpoint, staged=self._staged_weights_access(),
                           package=self._package_access(package.value_as_string),
                           from_package=from_package, from_weights=from_weights)
        endpoint.endpoint.node.add_dependency(endpoint.role)
        CfnOutput(self, "EndpointName", value=endpoint.endpoint_name,
                  description="Invoke through the VPC's sagemaker.runtime endpoint (seed: smoke_test.py)")
        CfnOutput(self, "DataCaptureLocation", value=capture, description="Sampled requests and responses")
        CfnOutput(self, "ServedModelPackage", value=package.value_as_string, condition=from_package,
                  description="The approved model package the endpoint serves")

    def _image_repositories(self) -> list[str]:
        """The repositories the endpoint may pull from: its serving image's (AWS-provided, and the
        custom one of the mirror), and the mirror's custom serving image of fm-finetuning, which
        registers the packages it serves (``Fn::Sub`` text)."""
        images = self.props.images
        assert images is not None
        return [*self.image_repository_arns, images.repository_arn(images.custom_repository(*PACKAGE_IMAGE))]

    # -- what the execution role reads: staged weights or a model package, never both ---------------
    def _staged_weights_access(self) -> list[iam.PolicyStatement]:
        """The staged weights: the folder below models/ (uncompressed files, listed then read) and the
        team bucket's key."""
        bucket = f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}"
        return [
            iam.PolicyStatement(sid="ListStagedWeights", actions=["s3:ListBucket"], resources=[Fn.sub(bucket)]),
            iam.PolicyStatement(sid="ReadStagedWeights", actions=["s3:GetObject"],
                                resources=[Fn.sub(f"{bucket}/models/${{WeightsFolder}}/*")]),
            iam.PolicyStatement(sid="TeamBucketKey", actions=["kms:Decrypt"], resources=[self.data_key.key_arn]),
        ]

    def _package_access(self, package: str) -> list[iam.PolicyStatement]:
        """The package itself (DescribeModelPackage on that one package of this account) and its
        ``model.tar.gz``, wherever the team's registrations put it in this account, derived from
        ``ModelPackageName`` (``<team>-<project>/<version>``):

        * registered by the fm-finetuning project ``<project>`` of this account: its pipeline runs,
          ``projects/<project>/runs/<execution>/.../model.tar.gz`` of the team bucket;
        * promoted from the previous stage: ``incoming/<account>/<group>/<source version>/model.tar.gz``
          of the account's promoted-models bucket. The version in the key is the source account's,
          not this registry's, so the grant names the group, not the version.

        Both are encrypted with the project key, which the endpoint construct grants."""
        group = Fn.select(0, Fn.split("/", package))
        # The project is the group without the "<team>-" prefix: split after an anchor that no
        # group name contains, so a project name containing "<team>-" stays whole.
        project = Fn.select(0, Fn.split("/", Fn.select(1, Fn.split(f"|{self.name_prefix}",
                                                                     Fn.join("", ["|", package])))))
        promoted = self.promoted_models_bucket_template
        return [
            iam.PolicyStatement(sid="ReadModelPackage", actions=["sagemaker:DescribeModelPackage"], resources=[Fn.sub(
                "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-package/${ModelPackageName}")]),
            iam.PolicyStatement(sid="ReadModelPackageArtifact", actions=["s3:GetObject"], resources=[
                Fn.join("", [Fn.sub(f"arn:${{AWS::Partition}}:s3:::{self.team_bucket_template}/{PROJECTS}/"), project,
                             f"/runs/*/{MODEL_ARTIFACT}"]),
                Fn.join("", [Fn.sub(f"arn:${{AWS::Partition}}:s3:::{promoted}/{INCOMING}/*/"), group,
                             f"/*/{MODEL_ARTIFACT}"])]),
        ]

    def _model_access(self, endpoint: FmEndpoint, *, staged: list[iam.PolicyStatement],
                      package: list[iam.PolicyStatement], from_package: CfnCondition,
                      from_weights: CfnCondition) -> None:
        """One managed policy per model source, each created only under its condition, attached
        through the role's ManagedPolicyArns (an Fn::If): the role, which the model and endpoint
        wait for, exists only after the policy of its source."""
        why = ("the execution role of a project FM endpoint reads one model: the staged weights folder "
               "WeightsFolder of the team bucket, or the model.tar.gz of the model package ModelPackageName (the "
               "runs of the project that registered it, or the promoted copies of its group); the wildcards are "
               "the files of that folder, the pipeline execution that wrote the artifact and the source account and "
               "version of a promotion")
        policies = {}
        for construct_id, statements, condition, description in (
                ("StagedWeightsAccess", staged, from_weights, "Project FM endpoint: read the staged weights"),
                ("ModelPackageAccess", package, from_package, "Project FM endpoint: read the served model package")):
            policy = iam.ManagedPolicy(self, construct_id, description=description, statements=statements)
            policy.node.default_child.cfn_options.condition = condition  # type: ignore[union-attr]
            acknowledge_resolved_wildcards(policy, statements, why)
            policies[construct_id] = policy
        attached = Fn.condition_if(from_package.logical_id, policies["ModelPackageAccess"].managed_policy_arn,
                                   policies["StagedWeightsAccess"].managed_policy_arn).to_string()
        endpoint.role.add_managed_policy(iam.ManagedPolicy.from_managed_policy_arn(self, "ModelAccess", attached))
