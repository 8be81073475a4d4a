"""EncryptionKey: a kms.Key, rotated yearly, retained, aliased; grant_logs admits CloudWatch Logs
for one log group prefix only."""

from __future__ import annotations

import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from fmops_constructs.kms import EncryptionKey
from tests.constructs.bare import ACCOUNT, ORG, REGION, TEAM, app_names, bare_stack, resources, statement, template

PREFIX = f"/{ORG}/{TEAM}/"


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


def test_the_key_policy_is_otherwise_cdks_default(built):
    _, _, synthesized = built
    policy = _key(synthesized, "alias/short")["Properties"]["KeyPolicy"]
    [admin] = policy["Statement"]
    assert admin["Action"] == "kms:*" and admin["Principal"]["AWS"]["Fn::Join"][1][-1] == f":iam::{ACCOUNT}:root"


def test_carries_no_app_names(built):
    assert app_names(built[2]) == []
