"""Promotion of approved models between a team's stage accounts (dev -> preprod -> prod), internet-free.

A project pipeline registers its model as ``PendingManualApproval``; approving it (a lead data
scientist, ``sagemaker:UpdateModelPackage``) is the gate. Per team and workload account, the
team's catalog stack holds :class:`ModelPromotion`:

* the ``<team>-promotions`` topic (project key, TLS only): the dead letters of both functions
  (failed promotions and imports), with no subscriber (SNS keeps none of them: what failed is in
  the functions' log groups); an alarm on its messages tells the team's topic
  (``notify_topic_arn``: the team's alarm topic and its subscribers) of each, and the arrival of
  every model from the previous stage is published there too;
* with a next stage, the **sender**: EventBridge runs ``promotion.promote`` (Lambda in the VPC,
  role ``sender_role_name``) on every approval of a package of the team's groups
  (``<team>-*``); it copies the package's model artifact and evaluation report into the next
  account's promoted-models bucket, below ``incoming/<this account>/<group>/<version>/``, and
  writes ``manifest.json`` last;
* with a previous stage, the **receiver**: the promoted-models bucket (``promoted_models_bucket``
  of this account) and, on each manifest that arrives (S3 events to EventBridge),
  ``promotion.register`` (role ``receiver_role_name``), which registers the
  model in this account's group of the same name as ``PendingManualApproval``: the next stage's
  gate. Approving it there runs that account's sender, up to prod.

Why copies and not cross-account reads: a team bucket admits requests only through its own
account's S3 endpoint and its key admits only its own account, so preprod cannot read dev's
artifacts (neither can a preprod endpoint, whose model download goes through preprod's VPC).
Opening dev's data bucket to preprod would open every dataset in it. Instead exactly one role
crosses, one way, and can only write: the previous stage's promotion role, which the receiving
bucket admits (bucket policy: ``s3:PutObject`` below its own ``incoming/<account>/`` prefix, only
through a VPC endpoint; the general VPC-endpoint Deny leaves out only that role ARN) and whose
identity policy allows the write only through its own account's S3 endpoint
(``aws:SourceVpce``) and only into a bucket of the next account (``s3:ResourceAccount``). The
receiving project key lets it encrypt (``kms:GenerateDataKey``, and ``kms:Decrypt`` that
multipart copies need) only through S3 (``kms:ViaService``) and only for that bucket
(encryption context). The copies are owned by the receiving account (bucket owner enforced),
encrypted with its key, and read there by its own roles through its own endpoint. Principals are
named by account plus ``aws:PrincipalArn`` condition, so each account deploys on its own (in any
order, in different CDK Pipelines stages) without the other account's role existing yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from fmops_constructs.acknowledge import acknowledge, acknowledge_wildcards
from fmops_constructs.alarm_topic import dead_letter_alarm
from fmops_constructs.aspects import exempt_from_internet_free
from fmops_constructs.cfn_text import nag_document, policy_document
from fmops_constructs.log_group import acknowledge_log_group
from fmops_constructs.model_promotion_runtime.promotion import INCOMING, REGISTERED, TEAM_TAG
from fmops_constructs.model_registry import MODEL_PACKAGE_STATE_CHANGE
from fmops_constructs.product import PROJECTS, PYTHON_RUNTIME, network_interface_grants
from fmops_constructs.product.props import BucketName
from fmops_constructs.secure_bucket import SecureBucket

RUNTIME = Path(__file__).with_name("model_promotion_runtime")


def _partition_arn(service: str, resource: str, *, account: str = "${AWS::AccountId}", region: bool = True) -> str:
    return f"arn:${{AWS::Partition}}:{service}:{'${AWS::Region}' if region else ''}:{account}:{resource}"


class _PromotionFunction(Construct):
    """A Python function of the promotion in the VPC's isolated subnets: a named role with the team's
    boundary and one customer-managed policy, a log group (project key, retained), the environment
    encrypted with the project key, reserved concurrency, failed events to the promotions topic."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, handler: str, description: str,
                 code: s3_assets.Asset, environment: Mapping[str, str], statements: Sequence[dict[str, Any]],
                 boundary: iam.IManagedPolicy, key: kms.IKey, topic: sns.ITopic, subnet_ids: list[str],
                 security_group_id: str, log_group_name: str, log_retention_days: int, timeout_seconds: int,
                 memory_mb: int, why: str) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.CfnLogGroup(self, "Logs", log_group_name=log_group_name, kms_key_id=key.key_arn,
                                          retention_in_days=log_retention_days)
        self.log_group.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge_log_group(self.log_group, retention_days=log_retention_days,
                              key_in_template=isinstance(key, kms.Key) and Stack.of(key) is Stack.of(self))
        self.role = iam.Role(self, "Role", role_name=name, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             permissions_boundary=boundary, description=description)
        self.statements = [
            {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [_partition_arn("logs", f"log-group:{log_group_name}:*")]},
            *({"Effect": "Allow", "Action": list(g.actions), "Resource": list(g.resources),
               **({"Condition": dict(g.conditions)} if g.conditions else {})}
              for g in network_interface_grants(lambda_function=True)),
            {"Sid": "FailuresToTheTopic", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [topic.topic_arn]},
            *statements,
        ]
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role], description=description,
                                        document=policy_document(self.statements))
        acknowledge_wildcards(self.policy, nag_document(self.statements), why)
        self.function = lambda_.CfnFunction(
            self, "Function", function_name=name, description=description, runtime=PYTHON_RUNTIME, handler=handler,
            code=lambda_.CfnFunction.CodeProperty(s3_bucket=code.s3_bucket_name, s3_key=code.s3_object_key),
            role=self.role.role_arn, timeout=timeout_seconds, memory_size=memory_mb,
            reserved_concurrent_executions=2, kms_key_arn=key.key_arn,
            environment=lambda_.CfnFunction.EnvironmentProperty(variables=dict(environment)),
            vpc_config=lambda_.CfnFunction.VpcConfigProperty(subnet_ids=subnet_ids,
                                                             security_group_ids=[security_group_id]),
            logging_config=lambda_.CfnFunction.LoggingConfigProperty(log_group=self.log_group.ref, log_format="JSON"),
            dead_letter_config=lambda_.CfnFunction.DeadLetterConfigProperty(target_arn=topic.topic_arn),
        )
        acknowledge(self.function, "control-tower-computed-value")  # subnets: the platform stack's exports
        # Lambda checks the network-interface permissions when it creates a function in a VPC.
        self.function.node.add_dependency(self.policy)

    def run_on(self, construct_id: str, *, pattern: dict[str, Any], description: str,
               extra_targets: Sequence[events.CfnRule.TargetProperty] = ()) -> events.CfnRule:
        """An EventBridge rule of this account's default bus that invokes the function (two retries
        within an hour; then the function's dead-letter topic)."""
        stack = Stack.of(self)
        rule = events.CfnRule(
            self, construct_id, name=self.function.function_name, description=description, event_pattern=pattern,
            targets=[events.CfnRule.TargetProperty(
                id="Function", arn=self.function.attr_arn,
                retry_policy=events.CfnRule.RetryPolicyProperty(maximum_retry_attempts=2,
                                                                maximum_event_age_in_seconds=3600)),
                *extra_targets])
        lambda_.CfnPermission(self, f"{construct_id}Invoke", action="lambda:InvokeFunction",
                              function_name=self.function.attr_arn, principal="events.amazonaws.com",
                              source_arn=rule.attr_arn, source_account=stack.account)
        return rule


class ModelPromotion(Construct):
    """A team's model promotion in one of its accounts (see the module docstring).

    The names are the app's: each account of the team names the same roles and buckets, so an
    account knows its neighbours' without a reference. The registered packages carry the
    runtime's team tag (:data:`~fmops_constructs.model_promotion_runtime.promotion.TEAM_TAG`).

    :param team: the team; its model package groups are ``<team>-*``, its topic ``<team>-promotions``.
    :param notify_topic_arn: the team's topic (its alarm topic), which hears of arrivals and of
        failures; its policy must admit the receiver's rule (named ``receiver_role_name``).
    :param key: the team's project key in this account (topic, functions, promoted models).
    :param boundary: the permission boundary of both functions' roles.
    :param sender_role_name: the sender's role and function, the same in every account of the
        team (the next stage's bucket admits it by name).
    :param receiver_role_name: the receiver's role and function.
    :param promoted_models_bucket: the name of the team's promoted-models bucket in an account
        and Region (this account's receives, the next account's is written to).
    :param log_group_prefix: prefix of the functions' log groups,
        ``<prefix>model-promotion/<function>``.
    :param team_bucket: the team's data bucket, where its pipelines write model artifacts.
    :param data_key_arn: the key of the team's data bucket.
    :param previous_account: the team's previous stage account, if any (receiver).
    :param next_account: the team's next stage account, if any (sender).
    :param image_repositories: the only images a promoted package may name, as URI prefixes:
        ``<registry host>/<namespace>/`` of the organisation's ECR mirror and
        ``<registry host>/<repository>:`` of each AWS-provided image the team's templates register.
    """

    def __init__(self, scope: Construct, construct_id: str, *, team: str, key: kms.IKey,
                 boundary: iam.IManagedPolicy, sender_role_name: str, receiver_role_name: str,
                 promoted_models_bucket: BucketName, log_group_prefix: str, team_bucket: str, data_key_arn: str,
                 s3_endpoint_id: str, subnet_ids: list[str], security_group_id: str, access_logs: s3.IBucket,
                 previous_account: str | None, next_account: str | None, image_repositories: Sequence[str],
                 log_retention_days: int, notify_topic_arn: str) -> None:
        super().__init__(scope, construct_id)
        if previous_account is None and next_account is None:
            raise ValueError("model promotion needs a previous or a next stage account")
        self._team, self._key, self._boundary = team, key, boundary
        self._sender_name, self._receiver_name = sender_role_name, receiver_role_name
        self._bucket_name, self._log_group_prefix = promoted_models_bucket, log_group_prefix
        self._network = {"subnet_ids": subnet_ids, "security_group_id": security_group_id}
        self._log_retention_days = log_retention_days
        self.topic_name = f"{team}-promotions"
        self.topic = sns.Topic(self, "Topic", topic_name=self.topic_name, master_key=key, enforce_ssl=True,
                               display_name=f"Model promotions of team {team}")
        self.notify_topic_arn = notify_topic_arn
        dead_letter_alarm(self, "DeadLetters", topic=self.topic, alarm_name=f"{team}-promotion-dead-letters",
                          description=f"Promotions or imports of team {team}'s models failed (events: the promotion "
                                      "functions' logs)", alarm_topic_arn=notify_topic_arn)
        self._code = s3_assets.Asset(self, "Code", path=str(RUNTIME), exclude=["__pycache__", "*.pyc"])
        self.bucket: SecureBucket | None = None
        self.receiver: _PromotionFunction | None = None
        self.sender: _PromotionFunction | None = None
        if previous_account is not None:
            self.bucket = self._receive(previous_account, s3_endpoint_id, access_logs, image_repositories)
        if next_account is not None:
            own = promoted_models_bucket(Stack.of(self).account, Stack.of(self).region)
            sources = [team_bucket] + ([own] if self.bucket else [])
            self.sender = self._send(next_account, sources, team_bucket, data_key_arn, s3_endpoint_id)

    # -- the previous stage's models arrive here ------------------------------------------------
    def _receive(self, source: str, s3_endpoint_id: str, access_logs: s3.IBucket,
                 image_repositories: Sequence[str]) -> SecureBucket:
        stack = Stack.of(self)
        team, key = self._team, self._key
        sender_arn = f"arn:{stack.partition}:iam::{source}:role/{self._sender_name}"
        name = self._bucket_name(stack.account, stack.region)
        bucket = SecureBucket(self, "Bucket", bucket_name=name, encryption_key=key, access_logs=access_logs,
                              vpc_endpoint_ids=[s3_endpoint_id], log_prefix=f"{team}/promoted-models",
                              admit_outside_vpc=[sender_arn], object_events=True)  # manifests start imports
        # The bucket by name (not reference): the project key's policy names it, and the bucket the key.
        bucket_arn = f"arn:{stack.partition}:s3:::{name}"
        incoming = f"{bucket_arn}/{INCOMING}/{source}/*"
        sender = {"ArnEquals": {"aws:PrincipalArn": sender_arn}}
        bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="PreviousStageWritesItsPromotions", principals=[iam.AccountPrincipal(source)],
            actions=["s3:PutObject", "s3:AbortMultipartUpload"], resources=[incoming], conditions=sender))
        bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="PreviousStageOnlyThroughVpcEndpoints", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=["s3:*"], resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
            conditions={**sender, "Null": {"aws:SourceVpce": "true"}}))
        cfn_bucket = bucket.node.default_child
        exempt_from_internet_free(
            cfn_bucket,  # type: ignore[arg-type]
            ["IF-S3-VPCE-ONLY"],
            f"Promoted models arrive from the team's previous stage account {source}: besides requests through "
            "this VPC's S3 endpoint, the bucket admits exactly that account's promotion role (assumable only by "
            "Lambda, running in that account's VPC), only to write below its own incoming/ prefix, only through "
            "a VPC endpoint (its identity policy pins its own account's S3 endpoint); every other principal is "
            "denied outside this VPC's endpoint.")
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="PreviousStageEncryptsPromotedModels", principals=[iam.AccountPrincipal(source)],
            actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=["*"],
            conditions={**sender, "StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, incoming]}}))
        objects = f"arn:${{AWS::Partition}}:s3:::{name}"
        team_groups = _partition_arn("sagemaker", f"model-package-group/{team}-*")
        team_packages = _partition_arn("sagemaker", f"model-package/{team}-*/*")
        tagged = {"StringEquals": {f"aws:RequestTag/{TEAM_TAG}": team}}
        self.receiver = self._function(
            "Import", name=self._receiver_name, handler="promotion.register", timeout_seconds=120,
            memory_mb=256, description=f"Registers models of team {team} promoted from account {source}, "
                                       "pending manual approval",
            environment={"TEAM": team, "BUCKET": name, "SOURCE_ACCOUNT": source,
                         "IMAGE_REPOSITORIES": ",".join(image_repositories)},
            statements=[
                {"Sid": "ReadPromotions", "Effect": "Allow", "Action": ["s3:GetObject"],
                 "Resource": [f"{objects}/{INCOMING}/{source}/*", f"{objects}/{REGISTERED}/*"]},
                {"Sid": "FindRegistrations", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [objects],
                 "Condition": {"StringLike": {"s3:prefix": f"{REGISTERED}/*"}}},
                {"Sid": "RecordRegistrations", "Effect": "Allow", "Action": ["s3:PutObject"],
                 "Resource": [f"{objects}/{REGISTERED}/*"]},
                {"Sid": "ProjectKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                 "Resource": [key.key_arn]},
                {"Sid": "ReadTeamGroups", "Effect": "Allow", "Action": ["sagemaker:DescribeModelPackageGroup"],
                 "Resource": [team_groups]},
                {"Sid": "RegisterPendingApproval", "Effect": "Allow",
                 "Action": ["sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelPackage", "sagemaker:AddTags"],
                 "Resource": [team_groups, team_packages], "Condition": tagged},
                # Approving is a person's decision in this account: never register an approved model.
                {"Sid": "NeverApproved", "Effect": "Deny", "Action": ["sagemaker:CreateModelPackage"],
                 "Resource": ["*"], "Condition": {"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}}},
            ],
            why=f"the import role of team {team}'s promoted models: objects below incoming/{source}/ and the "
                "registered/ markers of its own promoted-models bucket, model package groups and packages named "
                f"{team}-* (created only with the team's tag), its own log group; network-interface calls have no "
                "resource-level scope (Lambda in the VPC)")
        rule = self.receiver.run_on(
            "Arrivals", description=f"Manifests of models promoted from {source} into {name}",
            pattern={"source": ["aws.s3"], "detail-type": ["Object Created"],
                     "detail": {"bucket": {"name": [name]},
                                "object": {"key": [{"wildcard": f"{INCOMING}/{source}/*/manifest.json"}]}}},
            extra_targets=[events.CfnRule.TargetProperty(
                id="Team", arn=self.notify_topic_arn,
                input_transformer=events.CfnRule.InputTransformerProperty(
                    input_paths_map={"key": "$.detail.object.key"},
                    input_template=f'"A model approved in account {source} arrived: s3://{name}/<key>. It is '
                                   'registered in this account\'s model registry as PendingManualApproval; '
                                   'approve it to deploy it here and to promote it to the next stage."'))])
        return bucket

    # -- approved models leave for the next stage -------------------------------------------------
    def _send(self, target: str, sources: list[str], team_bucket: str, data_key_arn: str,
              s3_endpoint_id: str) -> _PromotionFunction:
        stack = Stack.of(self)
        team = self._team
        destination = self._bucket_name(target, stack.region)
        reads = [f"arn:${{AWS::Partition}}:s3:::{team_bucket}/{PROJECTS}/*/runs/*"]
        if self.bucket is not None:
            own = self._bucket_name(stack.account, stack.region)
            reads.append(f"arn:${{AWS::Partition}}:s3:::{own}/{INCOMING}/*")
        function = self._function(
            "Promote", name=self._sender_name, handler="promotion.promote", timeout_seconds=900,
            memory_mb=1024, description=f"Copies approved models of team {team} to its next stage account {target}",
            environment={"TEAM": team, "ACCOUNT": stack.account, "TARGET_ACCOUNT": target,
                         "TARGET_BUCKET": destination, "SOURCE_BUCKETS": ",".join(sources)},
            statements=[
                {"Sid": "ReadApprovedPackages", "Effect": "Allow", "Action": ["sagemaker:DescribeModelPackage"],
                 "Resource": [_partition_arn("sagemaker", f"model-package/{team}-*/*")]},
                {"Sid": "ReadModelArtifacts", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": reads},
                {"Sid": "DecryptModelArtifacts", "Effect": "Allow", "Action": ["kms:Decrypt"],
                 "Resource": [self._key.key_arn, data_key_arn]},
                {"Sid": "ProjectKeyForDeadLetters", "Effect": "Allow", "Action": ["kms:GenerateDataKey"],
                 "Resource": [self._key.key_arn]},
                {"Sid": "WriteToNextStage", "Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
                 "Resource": [f"arn:${{AWS::Partition}}:s3:::{destination}/{INCOMING}/${{AWS::AccountId}}/*"],
                 "Condition": {"StringEquals": {"aws:SourceVpce": s3_endpoint_id, "s3:ResourceAccount": target}}},
                {"Sid": "EncryptForNextStage", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                 "Resource": [_partition_arn("kms", "key/*", account=target)],
                 "Condition": {"StringEquals": {"kms:ViaService": "s3.${AWS::Region}.amazonaws.com"},
                               "StringLike": {"kms:EncryptionContext:aws:s3:arn":
                                              f"arn:${{AWS::Partition}}:s3:::{destination}*"}}},
            ],
            why=f"the promotion role of team {team}: it reads the model packages of the team's groups ({team}-*) and "
                "their artifacts in the team's pipeline runs (and promoted models), and writes only below its own "
                f"incoming/ prefix of the next account's promoted-models bucket; that account's key (id unknown here) "
                "is usable only through S3 for that bucket; network-interface calls have no resource-level scope")
        function.run_on(
            "Approvals", description=f"Approved model packages of team {team}, promoted to account {target}",
            pattern={"source": ["aws.sagemaker"], "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                     "detail": {"ModelApprovalStatus": ["Approved"],
                                "ModelPackageGroupName": [{"prefix": f"{team}-"}]}})
        return function

    def _function(self, construct_id: str, *, name: str, **kwargs: Any) -> _PromotionFunction:
        return _PromotionFunction(
            self, construct_id, name=name, code=self._code, boundary=self._boundary, key=self._key, topic=self.topic,
            log_group_name=f"{self._log_group_prefix}model-promotion/{name}",
            log_retention_days=self._log_retention_days, **self._network, **kwargs)
