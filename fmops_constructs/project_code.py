"""Where a project's code lives, configurable per team (``teams[].catalog.source``).

Pipelines in the VPC read their code as a zip in S3, whichever the source:

* ``s3``: no repository. The code is the template's seed bundle (published by the catalog stack
  in the account's CDK asset bucket); the team iterates by uploading new bundles below the
  project's ``code/`` prefix of the team bucket and passing that URI as the pipeline's
  ``CodeBundle`` parameter. Nothing outside the account is involved.
* ``codecommit``: a repository per project, created with the seed bundle as its first commit and
  encrypted with the project key. A CodePipeline copies every push to ``main`` into
  ``code/source.zip`` of the project's artifact bucket, the pipelines' default code.
* ``codeconnections``: the same pipeline with a CodeConnections source: the repository
  (``owner/name``) and branch are chosen at launch, the connection and the reason the
  organisation accepts its Git host come from the team's config and are written into the
  pipeline's metadata. Use a connection to a self-managed host reached through a
  CodeConnections host with a VPC configuration; a github.com connection brings code in from the
  internet (the internet-free pack flags connection resources for that reason, so the connection
  is created and accepted by the platform team, outside the templates).

CodePipeline runs in the AWS service, not in the VPC, so the artifact bucket admits, besides
requests through the VPC's S3 endpoint, exactly the pipeline's two roles.
"""

from __future__ import annotations

from aws_cdk import Duration, Fn, RemovalPolicy
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.aspects import exempt_from_internet_free
from fmops_constructs.product import PROJECTS, PlatformValue, ProjectProductStack

CODE_OBJECT = "code/source.zip"
BRANCH = "main"
EXTERNAL_SOURCE_METADATA = "fmops:external-code-source"


class ProjectCode(Construct):
    """The project's code source (see the module docstring).

    :attr code_uri: ``s3://`` URI of the zip the pipelines run by default.
    :attr code_objects: ARNs (``Fn::Sub`` text or tokens) a job role must read for it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack: ProjectProductStack) -> None:
        super().__init__(scope, construct_id)
        self.kind = stack.props.source.kind
        if self.kind == "s3":
            self.code_uri = stack.seed_uri
            self.code_objects = [stack.SEED_OBJECT_ARN]
            self.repository_description = Fn.sub(f"s3://{stack.team_bucket_template}/{stack.project_prefix}code/")
            return
        self.artifacts = self._artifact_bucket(stack)
        pipeline_role = iam.Role(self, "PipelineRole", assumed_by=iam.ServicePrincipal("codepipeline.amazonaws.com"),
                                 description="Copies the project's repository into its artifact bucket")
        actions_role = iam.Role(self, "ActionsRole", assumed_by=iam.ArnPrincipal(pipeline_role.role_arn),
                                description="Source and deploy actions of the project's code pipeline")
        source_output = codepipeline.Artifact("Source")
        if self.kind == "codecommit":
            repository = codecommit.CfnRepository(
                self, "Repository", repository_name=stack.resource_name("code"),
                repository_description="Project code (seeded from its template)",
                kms_key_id=stack.project_key.key_arn,
                code=codecommit.CfnRepository.CodeProperty(branch_name=BRANCH, s3=codecommit.CfnRepository.S3Property(
                    bucket=stack.platform_string(PlatformValue.SEED_BUCKET), key=stack.seed_key)))
            source: actions.Action = actions.CodeCommitSourceAction(
                action_name="Repository", output=source_output, branch=BRANCH, role=actions_role,
                repository=codecommit.Repository.from_repository_name(self, "Imported", repository.attr_name),
                code_build_clone_output=False)
            self.repository_description = repository.attr_clone_url_http
        else:
            repository_id = stack.choice(
                "RepositoryId", type="String", allowed_pattern="^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                description="Repository on the Git host of the team's connection, as owner/name")
            branch = stack.choice("BranchName", type="String", default=BRANCH,
                                  allowed_pattern="^[A-Za-z0-9._/-]{1,100}$", description="Branch the pipelines run")
            source = actions.CodeStarConnectionsSourceAction(
                action_name="Repository", output=source_output, role=actions_role,
                connection_arn=stack.props.source.connection_arn or "",
                owner=Fn.select(0, Fn.split("/", repository_id.value_as_string)),
                repo=Fn.select(1, Fn.split("/", repository_id.value_as_string)),
                branch=branch.value_as_string, trigger_on_push=True)
            self.repository_description = repository_id.value_as_string
        self.pipeline = codepipeline.Pipeline(
            self, "Pipeline", pipeline_name=stack.resource_name("code"), pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=self.artifacts, role=pipeline_role, restart_execution_on_update=False,
            stages=[codepipeline.StageProps(stage_name="Source", actions=[source]),
                    codepipeline.StageProps(stage_name="Publish", actions=[actions.S3DeployAction(
                        action_name="CodeBundle", input=source_output, bucket=self.artifacts, extract=False,
                        object_key=CODE_OBJECT, role=actions_role)])])
        if self.kind == "codeconnections":
            self.pipeline.node.default_child.add_metadata(EXTERNAL_SOURCE_METADATA, {  # type: ignore[union-attr]
                "connection": stack.props.source.connection_arn, "accepted_because": stack.props.source.accepted_because})
        self._admit_only_vpc_and(stack, [pipeline_role, actions_role])
        self.code_uri = self.artifacts.s3_url_for_object(CODE_OBJECT)
        self.code_objects = [self.artifacts.arn_for_objects(CODE_OBJECT)]

    def _artifact_bucket(self, stack: ProjectProductStack) -> s3.Bucket:
        """KMS (project key), TLS only, versioned, private, access-logged to the account's log
        bucket, retained when the project is terminated."""
        access_logs = s3.Bucket.from_bucket_name(self, "AccessLogs", Fn.sub(stack.access_log_bucket_template))
        bucket = s3.Bucket(
            self, "Artifacts", encryption=s3.BucketEncryption.KMS, encryption_key=stack.project_key,
            bucket_key_enabled=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            minimum_tls_version=1.2, versioned=True, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs, server_access_logs_prefix=f"{PROJECTS}/",
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90),
                                              abort_incomplete_multipart_upload_after=Duration.days(7))])
        acknowledge(bucket, "bucket-replication", "access-logs-granted-by-log-bucket")
        return bucket

    def _admit_only_vpc_and(self, stack: ProjectProductStack, roles: list[iam.IRole]) -> None:
        self.artifacts.add_to_resource_policy(iam.PolicyStatement(
            sid="DenyOutsideVpcEndpointExceptThePipeline", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=["s3:*"], resources=[self.artifacts.bucket_arn, self.artifacts.arn_for_objects("*")],
            conditions={
                "StringNotEquals": {"aws:SourceVpce": stack.platform_string(PlatformValue.S3_ENDPOINT_ID)},
                "ArnNotEquals": {"aws:PrincipalArn": [role.role_arn for role in roles]},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"},
            }))
        exempt_from_internet_free(
            self.artifacts.node.default_child,  # type: ignore[arg-type]
            ["IF-S3-VPCE-ONLY"],
            "CodePipeline runs in the AWS service, not in the VPC: besides requests through the VPC's S3 endpoint, "
            "the bucket admits exactly the project pipeline's role (assumable only by codepipeline.amazonaws.com) "
            "and its actions role (assumable only by that pipeline role); every other principal is denied outside "
            "the endpoint.")

