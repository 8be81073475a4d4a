"""EncryptionKey: a kms.Key, rotated yearly, retained, aliased; its account administers it and
uses it only through the listed services (S3 only for its buckets); grant_logs admits CloudWatch
Logs for one log group prefix only."""

from __future__ import annotations

import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from fmops_constructs.kms import ADMIN_ACTIONS, EncryptionKey
from infra.compliance.iam_eval import Layers, Principal, Request, evaluate
from infra.personas.workflows.principals import _Resolver
from tests.constructs.bare import ACCOUNT, ORG, REGION, TEAM, app_names, bare_stack, resources, statement, template

PREFIX = f"/{ORG}/{TEAM}/"
ADMIN = Layers([{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}])


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    key = EncryptionKey(stack, "DataKey", alias=f"alias/{ORG}/{TEAM}/data", description="data of kite")
    key.grant_logs(PREFIX)
    key.grant_logs("/aws/sagemaker/Endpoints/kite-", sid="EndpointLogs")
    short = EncryptionKey(stack, "ShortLived", alias="alias/short", description="scratch",
                          rotation_period=Duration.days(90), pending_window=Duration.days(7),
                          removal_policy=RemovalPolicy.DESTROY)
    sns.Topic(stack, "Topic", master_key=key)  # used where CDK takes a kms.IKey
    return key, short, template(stack)


def _key(template, alias):
    [logical_id] = [a["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
                    for a in resources(template, "AWS::KMS::Alias").values() if a["Properties"]["AliasName"] == alias]
    return template["Resources"][logical_id]


def test_is_a_key_at_the_path_of_its_first_version(built):
    key, _, _ = built
    assert isinstance(key, kms.Key)
    assert key.node.path == "Bare/DataKey/Key"


def test_defaults_rotate_yearly_keep_thirty_days_and_retain(built):
    _, _, synthesized = built
    key = _key(synthesized, f"alias/{ORG}/{TEAM}/data")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["RotationPeriodInDays"] == 365
    assert key["Properties"]["PendingWindowInDays"] == 30
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["Description"] == "data of kite"


def test_props_override_the_defaults(built):
    _, _, synthesized = built
    key = _key(synthesized, "alias/short")
    assert key["Properties"]["RotationPeriodInDays"] == 90
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert key["DeletionPolicy"] == "Delete"


def test_grant_logs_admits_logs_of_this_region_for_the_prefix_only(built):
    _, _, synthesized = built
    policy = _key(synthesized, f"alias/{ORG}/{TEAM}/data")["Properties"]["KeyPolicy"]
    logs = statement(policy, "CloudWatchLogsForThisAccount")
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Resource"] == "*"
    arn = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn["Fn::Join"][1][-1] == f":logs:{REGION}:{ACCOUNT}:log-group:{PREFIX}*"
    assert statement(policy, "EndpointLogs")["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"][
        "Fn::Join"][1][-1].endswith(":log-group:/aws/sagemaker/Endpoints/kite-*")


def test_without_services_the_account_only_administers_the_key(built):
    _, _, synthesized = built
    policy = _key(synthesized, "alias/short")["Properties"]["KeyPolicy"]
    admin, deny = policy["Statement"]
    assert admin["Sid"] == "KeyAdministration" and admin["Action"] == list(ADMIN_ACTIONS)
    assert admin["Principal"]["AWS"]["Fn::Join"][1][-1] == f":iam::{ACCOUNT}:root"
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant"} & set(ADMIN_ACTIONS)
    assert deny["Sid"] == "DenyGrantsOutsideAwsServices" and deny["Effect"] == "Deny"


@pytest.fixture(scope="module")
def scoped():
    stack = bare_stack()
    key = EncryptionKey(stack, "Key", alias="alias/scoped", description="scoped", services=("sagemaker", "sns"))
    bucket = s3.Bucket(stack, "Lake", bucket_name="lake-bucket", encryption_key=key)
    key.allow_s3("lake-bucket")
    synthesized = template(stack)
    # resolved as a deployment would (the bucket's GetAtt Arn -> arn:aws:s3:::<name>)
    return _Resolver(ACCOUNT, REGION, synthesized).value(_key(synthesized, "alias/scoped")["Properties"]["KeyPolicy"])


def _use(policy, action, account=ACCOUNT, **context):
    request = Request(action, f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k", {"kms:CallerAccount": account, **context})
    return evaluate(ADMIN, request, Principal(f"arn:aws:iam::{account}:role/admin", account), kms_key_policy=policy,
                    resource_account=ACCOUNT)


def test_the_account_uses_the_key_only_through_its_services(scoped):
    via = {"kms:ViaService": f"sagemaker.{REGION}.amazonaws.com"}
    assert _use(scoped, "kms:Decrypt", **via) and _use(scoped, "kms:GenerateDataKey", **via)
    assert not _use(scoped, "kms:Decrypt")  # aws kms decrypt with an admin role
    assert not _use(scoped, "kms:Decrypt", **{"kms:ViaService": f"glue.{REGION}.amazonaws.com"})
    assert not _use(scoped, "kms:Decrypt", account="210987654321", **via)
    assert _use(scoped, "kms:CreateGrant", **via, **{"kms:GrantIsForAWSResource": True})
    assert not _use(scoped, "kms:CreateGrant", **via)  # a grant for oneself


def test_s3_only_for_the_keys_buckets(scoped):
    s3_via = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert _use(scoped, "kms:Decrypt", **s3_via, **{"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::lake-bucket"})
    assert _use(scoped, "kms:Decrypt", **s3_via,
                **{"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::lake-bucket/raw/a.csv"})
    for other in ("arn:aws:s3:::lake-bucket-copy", "arn:aws:s3:::exfil/lake-bucket"):
        assert not _use(scoped, "kms:Decrypt", **s3_via, **{"kms:EncryptionContext:aws:s3:arn": other})
    assert not _use(scoped, "kms:Decrypt", **s3_via)


def test_nobody_creates_grants_outside_aws_services(scoped):
    [deny] = [s for s in scoped["Statement"] if s.get("Sid") == "DenyGrantsOutsideAwsServices"]
    everyone = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}, deny]}
    assert not _use(everyone, "kms:CreateGrant")
    assert _use(everyone, "kms:CreateGrant", **{"kms:GrantIsForAWSResource": True})


def test_carries_no_app_names(built):
    assert app_names(built[2]) == []
