"""The delivery pipelines of mode organisation, in the governance account (see infra/plan/delivery.py).

``DeliverySourceStack`` (``<org>-<governance>-delivery``, source kind ``s3`` only): the bucket the
platform team uploads a zip of this repository to. One bucket for every pipeline, so one upload
starts them all; it admits requests through the governance VPC's S3 endpoint and, from outside
it, only the pipelines' roles (CodePipeline does not run in a VPC).

``PipelineStack`` (``<org>-<team>-pipeline``): one self-mutating CDK pipeline
(``aws_cdk.pipelines.CodePipeline``) per team, or per group of teams that share workload
accounts. Source (s3, codecommit or codeconnections, ``organisation.delivery.source``), Build
(``cdk synth -c pipeline_group=<group>`` of this app: only the group's stacks and what they need),
UpdatePipeline (the pipeline deploys its own changes first),
Assets (the stages' file assets, published to the workload accounts' CDK asset buckets), then
one CodePipeline stage per environment: ``dev`` (the group's dev accounts), ``preprod`` and
``prod``, each of the last two opened by a manual approval. Each account is one CDK ``Stage``
whose stacks keep the names they have in single-account mode.

Every CodeBuild project runs in the governance account's VPC (isolated subnets, a security group
with HTTPS egress to the endpoints only, no privileged mode: no Docker) and installs pip and npm
packages from the organisation's CodeArtifact mirror, never from the internet. The artifact
bucket is encrypted with a key of the pipeline (cross-account keys, so the workload accounts'
CDK deploy roles can read the templates); its policy admits the VPC's S3 endpoint and, from
outside the VPC, only the pipeline role and those deploy roles.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack, Stage
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_resolved_wildcards
from fmops_constructs.aspects import exempt_from_internet_free
from fmops_constructs.kms import EncryptionKey
from fmops_constructs.log_group import retained_log_group
from fmops_constructs.package_mirror import PackageMirrorRef
from fmops_constructs.private_network import PrivateNetwork
from fmops_constructs.secure_bucket import SecureBucket
from fmops_constructs.vpc_egress import endpoints_only_security_group
from infra import naming
from infra.config import SourceKind, Stage as EnvironmentStage
from infra.plan import OrgFacts
from infra.plan.delivery import BUILD_COMPUTE_TYPE, PipelineGroup, synth_command

CDK_CLI_VERSION = "2.1148.1"  # package.json: the self-mutation installs the same CLI
CDK_ASSETS_VERSION = "4.7.3"
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIMES = {"python": "3.11", "nodejs": "20"}
BUILD_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "AWS_STS_REGIONAL_ENDPOINTS": "regional",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "npm_config_audit": "false",
    "npm_config_fund": "false",
}
EXTERNAL_SOURCE_METADATA = "fmops:external-code-source"
GENERATED_WILDCARDS = (
    "CDK Pipelines generates the pipeline's policies: object and key actions (s3:GetObject*, s3:List*, "
    "kms:GenerateDataKey*...) only on this pipeline's artifact bucket and key; logs and report groups of its own "
    "CodeBuild projects; the EC2 network-interface calls of CodeBuild in the VPC, which AWS documents with "
    "Resource '*'; the self-mutation may assume only this account's CDK bootstrap roles (condition on their "
    "aws-cdk:bootstrap-role tag) and describe stacks and list buckets to find them; sts:GetServiceBearerToken "
    "only for CodeArtifact."
)
APPROVAL_COMMENT = ("Approve to deploy this source revision to the {stage} accounts, after checking that the "
                    "earlier stages of this execution deployed it as intended.")


def delivery_bucket_name(org: OrgFacts) -> str:
    """The bucket that the s3 source kind reads the repository zip from (deterministic: every
    pipeline stack names it without a cross-stack reference)."""
    return naming.delivery_bucket_name(org.name, org.governance_account.id, org.region)  # type: ignore[union-attr]


def pipeline_role_pattern(org: OrgFacts) -> str:
    """Every role of the delivery pipelines (their IAM path) in the governance account."""
    return naming.role_arn("aws", org.governance_account.id, "*", naming.delivery_role_path(org.name))  # type: ignore[union-attr]


def _sub_part(part: object) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and list(part) == ["Ref"]:
        return "${" + part["Ref"] + "}"
    raise ValueError(f"cannot write {part!r} in Fn::Sub")


class DeliverySourceStack(Stack):
    """The delivery bucket of source kind s3 (see the module docstring)."""

    def __init__(self, scope: Construct, construct_id: str, *, org: OrgFacts, network: PrivateNetwork,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        governance = org.governance_account
        self.key = EncryptionKey(self, "Key", alias=f"alias/{org.name}/delivery",
                                 description=f"{org.name}: source bundles of the delivery pipelines")
        self.source = SecureBucket(
            self, "Source", encryption_key=self.key,
            access_logs=s3.Bucket.from_bucket_name(self, "AccessLogs", org.access_log_bucket(governance)),
            vpc_endpoint_ids=[network.s3_endpoint_id], log_prefix="delivery/source",
            bucket_name=delivery_bucket_name(org), admit_outside_vpc=[pipeline_role_pattern(org)],
            object_events=True)  # uploads start the pipelines through EventBridge (no polling, no trail needed)
        bucket = self.source.node.default_child
        exempt_from_internet_free(
            bucket, ["IF-S3-VPCE-ONLY"],
            "CodePipeline reads the source zip in the AWS service, not in the VPC: besides requests through the "
            "governance VPC's S3 endpoint the bucket admits only the delivery pipelines' roles "
            f"(IAM path {naming.delivery_role_path(org.name)}, assumable only by codepipeline.amazonaws.com); uploads "
            "come through the VPC endpoint.")
        CfnOutput(self, "SourceBucket", value=self.source.bucket_name,
                  description=f"Upload a zip of the repository as {org.organisation.delivery.source.key} (from inside the VPC)")
        CfnOutput(self, "SourceKeyArn", value=self.key.key_arn,
                  description="Uploaders need kms:GenerateDataKey on this key (and s3:PutObject on the bucket)")


class PipelineStack(Stack):
    """One team's (or team group's) self-mutating delivery pipeline (see the module docstring)."""

    def __init__(self, scope: Construct, construct_id: str, *, org: OrgFacts, group: PipelineGroup,
                 stages: dict[str, Stage], network: PrivateNetwork, log_key: kms.IKey,
                 mirror: PackageMirrorRef, source_key: kms.IKey | None = None,
                 config_path: str = "config/default.yaml",
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._org = org
        self.group = group
        deploy_roles = [naming.bootstrap_role_arn(account_id, org.region, "deploy")
                        for account_id in sorted(a.id for a in group.all_accounts)]

        self.role = iam.Role(self, "PipelineRole", path=naming.delivery_role_path(org.name),
                             assumed_by=iam.ServicePrincipal("codepipeline.amazonaws.com"),
                             description=f"CodePipeline of {construct_id}: runs its actions and assumes the CDK "
                                         "deploy roles of its workload accounts")
        # S3 (the artifact bucket, SecureBucket) and CodeBuild (the projects' encryption key)
        self.artifact_key = EncryptionKey(self, "ArtifactKey", alias=f"alias/{org.name}/pipelines/{group.name}",
                                          services=("codebuild",),
                                          description=f"{org.name}: artifacts of pipeline {construct_id}")
        self.artifacts = SecureBucket(
            self, "Artifacts", encryption_key=self.artifact_key,
            access_logs=s3.Bucket.from_bucket_name(self, "AccessLogs", org.access_log_bucket(org.governance_account)),
            vpc_endpoint_ids=[network.s3_endpoint_id], log_prefix=f"pipelines/{group.name}",
            admit_outside_vpc=[self.role.role_arn, *deploy_roles])
        exempt_from_internet_free(
            self.artifacts.node.default_child,  # type: ignore[arg-type]
            ["IF-S3-VPCE-ONLY"],
            "CodePipeline and the CloudFormation actions of a cross-account pipeline run in the AWS services, not in "
            "the VPC: besides requests through the governance VPC's S3 endpoint (every CodeBuild project) the bucket "
            "admits only the pipeline role (assumable only by codepipeline.amazonaws.com) and the CDK deploy roles of "
            "the pipeline's workload accounts, which read the templates of their change sets.")

        security_group = endpoints_only_security_group(
            self, "BuildSecurityGroup", vpc=network.vpc,
            description=f"CodeBuild projects of pipeline {construct_id}: HTTPS to the VPC endpoints only")
        log_group = retained_log_group(self, "BuildLogs", name=f"/{org.name}/pipelines/{group.name}", key=log_key,
                                       retention_days=org.organisation.log_retention_days)

        source = self._source(source_key)
        self.pipeline = pipelines.CodePipeline(
            self, "Pipeline",
            pipeline_name=f"{org.name}-{group.name}",
            pipeline_type=codepipeline.PipelineType.V2,
            role=self.role,
            use_pipeline_role_for_actions=True,
            artifact_bucket=self.artifacts,
            cross_account_keys=True,
            self_mutation=True,
            docker_enabled_for_synth=False,
            docker_enabled_for_self_mutation=False,
            publish_assets_in_parallel=False,
            cli_version=CDK_CLI_VERSION,
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            code_build_defaults=pipelines.CodeBuildOptions(
                vpc=network.vpc,
                subnet_selection=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                security_groups=[security_group],
                build_environment=codebuild.BuildEnvironment(
                    build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType[BUILD_COMPUTE_TYPE], privileged=False,
                    environment_variables={k: codebuild.BuildEnvironmentVariable(value=v) for k, v in BUILD_ENV.items()}),
                partial_build_spec=codebuild.BuildSpec.from_object({
                    "version": "0.2",
                    "phases": {"install": {"runtime-versions": RUNTIMES, "commands": mirror.login_commands()}},
                }),
                role_policy=[*mirror.read_packages_statements(), *mirror.read_npm_statements()],
                timeout=Duration.minutes(60),
                logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)),
            ),
            synth=pipelines.CodeBuildStep(
                "Synth", input=source, primary_output_directory="cdk.out",
                commands=[
                    "python -m venv .venv",
                    ".venv/bin/pip install -q -r requirements.txt",
                    ".venv/bin/pip install -q --no-deps -e .",
                    "npm ci --no-audit --no-fund --loglevel=error",
                    synth_command(config_path, group),  # scoped: only what this pipeline deploys
                ]),
        )
        for environment, accounts in group.accounts.items():
            # Nothing reaches preprod or prod without a person's approval, whatever came before.
            pre = None if environment is EnvironmentStage.DEV else [pipelines.ManualApprovalStep(
                f"Approve-{environment}", comment=APPROVAL_COMMENT.format(stage=environment))]
            wave = self.pipeline.add_wave(str(environment), pre=pre)
            for account in accounts:
                wave.add_stage(stages[account.name])
        self.pipeline.build_pipeline()
        self._after_build()
        CfnOutput(self, "PipelineName", value=self.pipeline.pipeline.pipeline_name)

    # -- source ----------------------------------------------------------------------------------

    def _source(self, source_key: kms.IKey | None) -> pipelines.CodePipelineSource:
        spec = self._org.organisation.delivery.source
        if spec.kind is SourceKind.S3:
            bucket = s3.Bucket.from_bucket_name(self, "SourceBucket", delivery_bucket_name(self._org))
            if source_key is not None:
                source_key.grant_decrypt(self.role)
            return pipelines.CodePipelineSource.s3(bucket, spec.key, trigger=actions.S3Trigger.NONE,
                                                  action_name="Source")
        if spec.kind is SourceKind.CODECOMMIT:
            repository = codecommit.Repository.from_repository_name(self, "Repository", spec.repository or "")
            return pipelines.CodePipelineSource.code_commit(repository, spec.branch_name,
                                                           trigger=actions.CodeCommitTrigger.EVENTS,
                                                           action_name="Source")
        return pipelines.CodePipelineSource.connection(
            spec.repository or "", spec.branch_name, connection_arn=spec.connection_arn or "",
            trigger_on_push=True, action_name="Source")

    def _start_on_upload(self) -> None:
        """Source kind s3: start the pipeline when the zip is uploaded (S3 EventBridge events)."""
        spec = self._org.organisation.delivery.source
        events.Rule(
            self, "StartOnUpload",
            description=f"Start {self.pipeline.pipeline.pipeline_name} when {spec.key} is uploaded",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Created"],
                detail={"bucket": {"name": [delivery_bucket_name(self._org)]}, "object": {"key": [spec.key]}}),
            targets=[targets.CodePipeline(self.pipeline.pipeline)],
        )

    # -- after the pipeline is built ---------------------------------------------------------------

    def _self_mutation_exclusively(self) -> None:
        """The self-mutation deploys the pipeline stack only (``--exclusively``). By default
        ``cdk deploy`` also deploys the stacks it depends on, the governance platform stack here:
        every team's pipeline would then update that shared stack, concurrently at 100 teams. The
        platform team deploys the governance stacks (docs/delivery.md)."""
        project = self.pipeline.self_mutation_project.node.default_child
        source = self.resolve(project.source)  # type: ignore[union-attr]
        spec = source.get("buildSpec", source.get("BuildSpec"))
        marker = f" deploy {self.node.path} --require-approval=never"
        if not isinstance(spec, str) or marker not in spec:
            raise ValueError(f"CDK Pipelines' self-mutation command changed; expected {marker!r} in its buildspec")
        project.add_property_override(  # type: ignore[union-attr]
            "Source.BuildSpec", spec.replace(marker, f" deploy {self.node.path} --exclusively --require-approval=never"))

    def _role_arns_as_sub(self) -> None:
        """CDK writes the CloudFormation actions' execution role ARNs as ``Fn::Join`` with an empty
        delimiter, which cfn-lint's pipeline-action rule (E3703) rejects; the same ARN as ``Fn::Sub``."""
        cfn = self.pipeline.pipeline.node.default_child
        for i, stage in enumerate(self.resolve(cfn.stages)):  # type: ignore[union-attr]
            for j, action in enumerate(stage["actions"] if "actions" in stage else stage["Actions"]):
                configuration = action.get("configuration", action.get("Configuration")) or {}
                arn = configuration.get("RoleArn")
                if isinstance(arn, dict) and list(arn) == ["Fn::Join"] and arn["Fn::Join"][0] == "":
                    cfn.add_property_override(f"Stages.{i}.Actions.{j}.Configuration.RoleArn",  # type: ignore[union-attr]
                                              {"Fn::Sub": "".join(_sub_part(part) for part in arn["Fn::Join"][1])})

    def _after_build(self) -> None:
        """Source trigger and metadata, then escape hatches and acknowledgments on what CDK
        Pipelines generated (the pipeline is built, so every resource and statement exists)."""
        spec = self._org.organisation.delivery.source
        if spec.kind is SourceKind.S3:
            self._start_on_upload()
        if spec.kind is SourceKind.CODECONNECTIONS:
            self.pipeline.pipeline.node.default_child.add_metadata(EXTERNAL_SOURCE_METADATA, {  # type: ignore[union-attr]
                "connection": spec.connection_arn, "accepted_because": spec.accepted_because})
        for project in [n for n in self.node.find_all() if isinstance(n, codebuild.CfnProject)]:
            # CodeBuild encrypts its build output with the pipeline's artifact key.
            project.add_property_override("EncryptionKey", self.artifact_key.key_arn)
            acknowledge(project, "delivery-pipeline-codebuild-source")
        self._role_arns_as_sub()
        self._self_mutation_exclusively()
        for policy in [n for n in self.node.find_all() if isinstance(n, iam.CfnPolicy)]:
            acknowledge(policy, "delivery-pipeline-policies")
            acknowledge_resolved_wildcards(policy, self.resolve(policy.policy_document)["Statement"], GENERATED_WILDCARDS)
