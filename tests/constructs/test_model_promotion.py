"""ModelPromotion: the sender copies approved packages into the next account's bucket, the
receiver registers arrivals pending approval; every name is the caller's."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from fmops_constructs.kms import EncryptionKey
from fmops_constructs.model_promotion import ModelPromotion
from fmops_constructs.model_promotion_runtime.promotion import TEAM_TAG
from tests.constructs.bare import ACCOUNT, ORG, REGION, TEAM, app_names, bare_stack, resources, statement, template

PREVIOUS, NEXT = "111111111111", "333333333333"


def bucket_name(account: str, region: str) -> str:
    return f"{ORG}-{TEAM}-arrivals-{account}-{region}"


@pytest.fixture(scope="module")
def built():
    stack = bare_stack()
    key = EncryptionKey(stack, "ProjectKey", alias="alias/projects", description="projects")
    boundary = iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", f"{ORG}-{TEAM}-ceiling")
    promotion = ModelPromotion(
        stack, "Promotions", team=TEAM, key=key, boundary=boundary, sender_role_name=f"{ORG}-{TEAM}-sender",
        receiver_role_name=f"{ORG}-{TEAM}-receiver", promoted_models_bucket=bucket_name,
        log_group_prefix=f"/{ORG}/logs/{TEAM}/", team_bucket=f"{ORG}-{TEAM}-lake",
        data_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/data", s3_endpoint_id="vpce-0123456789abcdef0",
        subnet_ids=["subnet-01234567"], security_group_id="sg-0123456789abcdef0",
        access_logs=s3.Bucket.from_bucket_name(stack, "AccessLogs", f"{ORG}-logs"), previous_account=PREVIOUS,
        next_account=NEXT, image_repositories=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{ORG}/",
        log_retention_days=90, notify_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{ORG}-{TEAM}-alarms")
    return promotion, template(stack)


def _function(template, name):
    [found] = [f["Properties"] for f in resources(template, "AWS::Lambda::Function").values()
               if f["Properties"]["FunctionName"] == name]
    return found


def test_receives_in_its_own_bucket_admitting_only_the_previous_sender(built):
    promotion, synthesized = built
    [bucket] = resources(synthesized, "AWS::S3::Bucket").values()
    assert bucket["Properties"]["BucketName"] == bucket_name(ACCOUNT, REGION)
    [policy] = resources(synthesized, "AWS::S3::BucketPolicy").values()
    writes = statement(policy["Properties"]["PolicyDocument"], "PreviousStageWritesItsPromotions")
    assert writes["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::Join"][1][-1] == \
        f":iam::{PREVIOUS}:role/{ORG}-{TEAM}-sender"
    assert promotion.bucket is not None and promotion.receiver is not None


def test_sends_to_the_next_accounts_bucket_through_the_endpoint(built):
    promotion, synthesized = built
    sender = _function(synthesized, f"{ORG}-{TEAM}-sender")
    environment = sender["Environment"]["Variables"]
    assert environment["TARGET_BUCKET"] == bucket_name(NEXT, REGION)
    assert environment["SOURCE_BUCKETS"] == f"{ORG}-{TEAM}-lake,{bucket_name(ACCOUNT, REGION)}"
    write = next(s for s in promotion.sender.statements if s.get("Sid") == "WriteToNextStage")  # type: ignore[union-attr]
    assert write["Condition"] == {"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0",
                                                   "s3:ResourceAccount": NEXT}}


def test_roles_named_bounded_logs_prefixed_functions_in_the_vpc(built):
    _, synthesized = built
    roles = {r["Properties"]["RoleName"]: r["Properties"] for r in resources(synthesized, "AWS::IAM::Role").values()}
    assert set(roles) == {f"{ORG}-{TEAM}-sender", f"{ORG}-{TEAM}-receiver"}
    assert all(r["PermissionsBoundary"]["Fn::Join"][1][-1].endswith(f":policy/{ORG}-{TEAM}-ceiling")
               for r in roles.values())
    groups = sorted(g["Properties"]["LogGroupName"] for g in resources(synthesized, "AWS::Logs::LogGroup").values())
    assert groups == [f"/{ORG}/logs/{TEAM}/model-promotion/{ORG}-{TEAM}-receiver",
                      f"/{ORG}/logs/{TEAM}/model-promotion/{ORG}-{TEAM}-sender"]
    receiver = _function(synthesized, f"{ORG}-{TEAM}-receiver")
    assert receiver["VpcConfig"] == {"SubnetIds": ["subnet-01234567"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}


def test_topic_of_the_team(built):
    promotion, synthesized = built
    [topic] = resources(synthesized, "AWS::SNS::Topic").values()
    assert topic["Properties"]["TopicName"] == promotion.topic_name == f"{TEAM}-promotions"


def test_needs_a_neighbour():
    stack = bare_stack()
    with pytest.raises(ValueError, match="previous or a next stage"):
        ModelPromotion(stack, "P", team=TEAM, key=None, boundary=None, sender_role_name="s",  # type: ignore[arg-type]
                       receiver_role_name="r", promoted_models_bucket=bucket_name, log_group_prefix="/",
                       team_bucket="b", data_key_arn="k", s3_endpoint_id="e", subnet_ids=[], security_group_id="g",
                       access_logs=None, previous_account=None, next_account=None,  # type: ignore[arg-type]
                       image_repositories="", log_retention_days=1, notify_topic_arn="t")


def test_the_only_app_name_is_the_runtimes_team_tag(built):
    """The runtime tags what it registers with TEAM_TAG; making the key a prop would add an
    environment variable to the functions."""
    assert {name for name in app_names(built[1])} == {f"aws:RequestTag/{TEAM_TAG}"}
