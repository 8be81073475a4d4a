"""Promotion of approved models across a team's stage accounts (dev -> preprod -> prod).

On the synthesized templates: which account sends and which receives, the receiving bucket's
perimeter and the key grant, the functions (in the VPC, bounded, dead letters), the rules. Offline
IAM evaluation (the project's evaluator, infra.compliance.iam_eval, with the bucket policy as resource policy and the team boundary):
the sender may only write below its own prefix of the next account's bucket, through its own S3
endpoint; the importer may only register pending packages of the team. The Lambda code, with
botocore's Stubber (every request validated against the service model): approval -> copies and
manifest -> registration pending manual approval, and what it refuses.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from fmops_constructs.model_promotion import RUNTIME
from infra.naming import promoted_models_bucket_name, promotion_role_name
from infra.compliance.internet_free import check_template
from infra.compliance.internet_free.organisation import Organisation
from infra.config import Feature, load_config
from tests.conftest import REPO, resources


from tests.iam import Node, Policy, local_check_authorization_full  # noqa: E402

pytestmark = pytest.mark.xdist_group("catalog")

ORG, TEAM, REGION = "fmops", "genai", "eu-west-1"
DEV, PREPROD, PROD = "333333333331", "333333333332", "333333333333"
CONFIG = load_config(REPO / "config" / "default.yaml")
MIRROR = f"111111111111.dkr.ecr.{REGION}.amazonaws.com/{ORG}/"


def catalog(templates: dict, account: str, team: str = TEAM) -> dict:
    return templates[f"{ORG}-{account}-{team}-catalog"]


def _by_type(template: dict, resource_type: str, prefix: str = "Promotions") -> dict[str, dict]:
    return {k: r for k, r in resources(template, resource_type).items() if k.startswith(prefix)}


def _one(template: dict, resource_type: str, prefix: str) -> dict:
    [resource] = _by_type(template, resource_type, prefix).values()
    return resource


def _statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


def _sub(value: Any, account: str) -> Any:
    """A synthesized policy with pseudo parameters filled in (imports become placeholders)."""
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: {"AWS::Partition": "aws", "AWS::Region": REGION,
                                                       "AWS::AccountId": account}.get(m.group(1), m.group(0)),
                          value["Fn::Sub"])
        if "Fn::Join" in value:
            return value["Fn::Join"][0].join(str(_sub(p, account)) for p in value["Fn::Join"][1])
        if "Fn::ImportValue" in value:  # the account's S3 endpoint, or another export of its stacks
            return f"vpce-{account}" if "VpcS3" in value["Fn::ImportValue"] else "imported"
        if "Fn::GetAtt" in value or "Ref" in value:
            target = value.get("Ref") or value["Fn::GetAtt"][0]
            return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": account}.get(
                target, f"arn:aws:kms:{REGION}:{account}:key/{target}")
        return {k: _sub(v, account) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v, account) for v in value]
    return value


# -- who sends, who receives ------------------------------------------------------------------


def test_dev_sends_preprod_relays_prod_receives(default_templates):
    for team in (t for t in CONFIG.teams if Feature.PIPELINES in t.features):
        accounts = team.accounts.by_stage()
        shapes = {}
        for stage, name in accounts.items():
            template = catalog(default_templates, name, team.name)
            shapes[stage.value] = (bool(_by_type(template, "AWS::Lambda::Function", "PromotionsPromote")),
                                   bool(_by_type(template, "AWS::S3::Bucket")))
        assert shapes == {"dev": (True, False), "preprod": (True, True), "prod": (False, True)}, team.name


def test_single_account_mode_promotes_nothing(single_templates):
    template = next(t for name, t in single_templates.items() if name.endswith("-catalog"))
    assert not _by_type(template, "AWS::Lambda::Function") and not _by_type(template, "AWS::S3::Bucket")


def test_no_cross_account_event_forwarding_is_left(default_templates):
    """Promotion moves objects now: no catalog stack admits another account on its event bus, and
    no rule targets an event bus."""
    for name, template in ((n, t) for n, t in default_templates.items() if n.endswith("-catalog")):
        assert not resources(template, "AWS::Events::EventBusPolicy"), name
        for rule in resources(template, "AWS::Events::Rule").values():
            for target in rule["Properties"].get("Targets", []):
                assert ":event-bus/" not in json.dumps(target["Arn"]), name


# -- the receiving bucket and key -------------------------------------------------------------


@pytest.mark.parametrize(("account", "source"), [("genai-preprod", DEV), ("genai-prod", PREPROD)])
def test_promoted_models_bucket_admits_only_the_previous_stage_sender_to_write(default_templates, account, source):
    template = catalog(default_templates, account)
    target = PREPROD if account == "genai-preprod" else PROD
    bucket = _one(template, "AWS::S3::Bucket", "PromotionsBucket")
    name = promoted_models_bucket_name(ORG, TEAM, target, REGION)
    assert bucket["Properties"]["BucketName"] == name
    assert bucket["DeletionPolicy"] == "Retain" and bucket["Properties"]["VersioningConfiguration"]
    assert bucket["Properties"]["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and encryption["BucketKeyEnabled"]
    exemption = bucket["Metadata"]["fmops:internet-free-exempt"]
    assert exemption["rules"] == ["IF-S3-VPCE-ONLY"] and source in exemption["reason"]
    sender = f"arn:aws:iam::{source}:role/{promotion_role_name(ORG, TEAM)}"
    policy = _statements(_one(template, "AWS::S3::BucketPolicy", "PromotionsBucket")["Properties"]["PolicyDocument"])
    guard = policy["DenyOutsideVpcEndpoint"]
    assert guard["Effect"] == "Deny" and guard["Action"] == "s3:*"
    assert guard["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": [sender]}, "only the sender is left out"
    write = policy["PreviousStageWritesItsPromotions"]
    assert write["Principal"] == {"AWS": f"arn:aws:iam::{source}:root"}
    assert write["Condition"] == {"ArnEquals": {"aws:PrincipalArn": sender}}
    assert sorted(write["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]
    assert write["Resource"] == f"arn:aws:s3:::{name}/incoming/{source}/*"
    through_vpce = policy["PreviousStageOnlyThroughVpcEndpoints"]
    assert through_vpce["Effect"] == "Deny" and through_vpce["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": sender}, "Null": {"aws:SourceVpce": "true"}}
    allows = [s for s in _one(template, "AWS::S3::BucketPolicy", "PromotionsBucket")["Properties"]["PolicyDocument"][
        "Statement"] if s["Effect"] == "Allow"]
    assert allows == [write], "nothing else is allowed by the bucket policy"


def test_project_key_lets_the_sender_encrypt_only_through_s3_for_that_bucket(default_templates):
    template = catalog(default_templates, "genai-preprod")
    [key] = [k for k in resources(template, "AWS::KMS::Key").values()
             if any(s.get("Sid") == "PreviousStageEncryptsPromotedModels" for s in k["Properties"]["KeyPolicy"]["Statement"])]
    grant = _statements(key["Properties"]["KeyPolicy"])["PreviousStageEncryptsPromotedModels"]
    name = promoted_models_bucket_name(ORG, TEAM, PREPROD, REGION)
    assert grant["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert grant["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{DEV}:role/{promotion_role_name(ORG, TEAM)}"},
        "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{name}",
                                                            f"arn:aws:s3:::{name}/incoming/{DEV}/*"]}}


# -- functions and rules ----------------------------------------------------------------------


@pytest.mark.parametrize("account", ["genai-dev", "genai-preprod", "genai-prod", "risk-preprod"])
def test_promotion_functions_run_in_the_vpc_bounded_with_dead_letters(default_templates, account):
    team = account.split("-")[0]
    template = catalog(default_templates, account, team)
    functions = _by_type(template, "AWS::Lambda::Function")
    assert functions
    [topic_id] = _by_type(template, "AWS::SNS::Topic")
    for function in functions.values():
        props = function["Properties"]
        assert props["VpcConfig"]["SubnetIds"] and props["VpcConfig"]["SecurityGroupIds"]
        assert props["ReservedConcurrentExecutions"] == 2 and props["KmsKeyArn"]
        assert props["DeadLetterConfig"] == {"TargetArn": {"Ref": topic_id}}
        role = template["Resources"][props["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert role["RoleName"].startswith(f"{ORG}-{team}-model-")
        assert role["PermissionsBoundary"] == f"arn:aws:iam::{template_account(account)}:policy/{ORG}-{team}-boundary"
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert "ManagedPolicyArns" not in role and "Policies" not in role
    for group in _by_type(template, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["KmsKeyId"] and group["DeletionPolicy"] == "Retain"
    assert not check_template(template, account, Organisation.of(CONFIG)), "internet-free, with the bucket's recorded exemption"


def template_account(account: str) -> str:
    return CONFIG.account(account).id


def test_sender_runs_on_approvals_of_the_teams_groups_and_importer_on_manifests(default_templates):
    template = catalog(default_templates, "genai-preprod")
    rules = {k: r["Properties"] for k, r in _by_type(template, "AWS::Events::Rule").items()}
    [approvals] = [r for k, r in rules.items() if "Approvals" in k]
    assert approvals["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelApprovalStatus": ["Approved"], "ModelPackageGroupName": [{"prefix": f"{TEAM}-"}]}}
    [arrivals] = [r for k, r in rules.items() if "Arrivals" in k]
    assert arrivals["EventPattern"]["detail"] == {
        "bucket": {"name": [promoted_models_bucket_name(ORG, TEAM, PREPROD, REGION)]},
        "object": {"key": [{"wildcard": f"incoming/{DEV}/*/manifest.json"}]}}
    assert sorted(t["Id"] for t in arrivals["Targets"]) == ["Function", "Team"]
    for permission in _by_type(template, "AWS::Lambda::Permission").values():
        assert permission["Properties"]["Principal"] == "events.amazonaws.com"
        assert permission["Properties"]["SourceArn"] and permission["Properties"]["SourceAccount"] == PREPROD


# -- offline IAM evaluation -------------------------------------------------------------------


def _node(templates: dict, account: str, role_prefix: str) -> Node:
    """The promotion function role of ``account`` with its policy and the team boundary."""
    template = catalog(templates, account)
    number = template_account(account)
    role_id, role = next((k, r) for k, r in resources(template, "AWS::IAM::Role").items() if k.startswith(role_prefix))
    [policy] = [p for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                if {"Ref": role_id} in p["Properties"].get("Roles", [])]
    boundary = next(p["Properties"]["PolicyDocument"] for p in
                    resources(templates[f"{ORG}-{account}-{TEAM}"], "AWS::IAM::ManagedPolicy").values()
                    if p["Properties"]["ManagedPolicyName"] == f"{ORG}-{TEAM}-boundary")
    arn = f"arn:aws:iam::{number}:role/{role['Properties']['RoleName']}"
    return Node(arn, role["Properties"]["RoleName"], [Policy(arn, "promotion", _sub(policy["Properties"]["PolicyDocument"],
                                                                                   number))],
                [], role["Properties"]["AssumeRolePolicyDocument"], None, 0, False, False,
                Policy(arn, "boundary", _sub(boundary, number)), False, {})


def _bucket_policy(templates: dict, account: str) -> dict:
    template = catalog(templates, account)
    document = _one(template, "AWS::S3::BucketPolicy", "PromotionsBucket")["Properties"]["PolicyDocument"]
    name = promoted_models_bucket_name(ORG, TEAM, template_account(account), REGION)
    return json.loads(json.dumps(_sub(document, template_account(account))).replace(
        f"arn:aws:kms:{REGION}:{template_account(account)}:key/PromotionsBucketF483FCC1", f"arn:aws:s3:::{name}"))


@pytest.fixture(scope="module")
def sender(default_templates) -> Node:
    return _node(default_templates, "genai-dev", "PromotionsPromoteRole")


@pytest.fixture(scope="module")
def importer(default_templates) -> Node:
    return _node(default_templates, "genai-preprod", "PromotionsImportRole")


VPCE = f"vpce-{DEV}"  # the dev account's S3 endpoint, as _sub fills the import in


def _write(node: Node, key: str, *, bucket_policy: dict | None, context: dict | None = None,
           bucket: str | None = None, owner: str = PREPROD, action: str = "s3:PutObject") -> bool:
    bucket = bucket or promoted_models_bucket_name(ORG, TEAM, PREPROD, REGION)
    context = {"aws:SourceVpce": VPCE, "s3:ResourceAccount": owner} if context is None else context
    return local_check_authorization_full(node, action, f"arn:aws:s3:::{bucket}/{key}", context,
                                          bucket_policy, owner if bucket_policy is not None else None, None, None)


def test_sender_writes_only_below_its_prefix_of_the_next_account_through_its_endpoint(default_templates, sender):
    policy = _bucket_policy(default_templates, "genai-preprod")
    own = f"incoming/{DEV}/{TEAM}-support-assistant/3/model.tar.gz"
    assert _write(sender, own, bucket_policy=policy)
    assert _write(sender, own, bucket_policy=policy, action="s3:AbortMultipartUpload")
    # Both halves are needed: the bucket policy's Allow (another account), and the sender left out
    # of the VPC-endpoint Deny (its requests come through its own account's endpoint).
    without_allow = {**policy, "Statement": [s for s in policy["Statement"] if s["Effect"] != "Allow"]}
    assert not _write(sender, own, bucket_policy=without_allow)
    without_carve_out = json.loads(json.dumps(policy))
    for statement in without_carve_out["Statement"]:
        statement.get("Condition", {}).pop("ArnNotLike", None)
    assert not _write(sender, own, bucket_policy=without_carve_out)
    assert not _write(sender, f"incoming/{PREPROD}/{TEAM}-x/1/model.tar.gz", bucket_policy=policy), "another prefix"
    assert not _write(sender, f"registered/{DEV}/x.json", bucket_policy=policy)
    assert not _write(sender, own, bucket_policy=policy, action="s3:GetObject"), "it cannot read there"
    assert not _write(sender, own, bucket_policy=policy, action="s3:DeleteObject")
    assert not _write(sender, own, bucket_policy=policy, context={"s3:ResourceAccount": PREPROD}), "no VPC endpoint"
    assert not _write(sender, own, bucket_policy=policy,
                      context={"aws:SourceVpce": f"vpce-{PREPROD}", "s3:ResourceAccount": PREPROD})
    # Neither the team's data bucket of the next account nor a same-named bucket elsewhere.
    assert not _write(sender, "data/x.csv", bucket_policy=None, bucket=f"{ORG}-{TEAM}-data-{PREPROD}-{REGION}")
    assert not _write(sender, own, bucket_policy=None, context={"aws:SourceVpce": VPCE, "s3:ResourceAccount": "999999999999"})


def test_sender_reads_only_pipeline_runs_and_cannot_approve(sender):
    def allowed(action: str, resource: str, context: dict | None = None) -> bool:
        return local_check_authorization_full(sender, action, resource, context or {}, None, None, None, None)

    team_bucket = f"arn:aws:s3:::{ORG}-{TEAM}-data-{DEV}-{REGION}"
    assert allowed("s3:GetObject", f"{team_bucket}/projects/bot/runs/exec-1/FineTune/job/output/model.tar.gz")
    assert not allowed("s3:GetObject", f"{team_bucket}/data/curated/table.parquet"), "not the team's data"
    package = f"arn:aws:sagemaker:{REGION}:{DEV}:model-package/{TEAM}-bot/3"
    assert allowed("sagemaker:DescribeModelPackage", package)
    assert not allowed("sagemaker:DescribeModelPackage", f"arn:aws:sagemaker:{REGION}:{DEV}:model-package/risk-x/1")
    assert not allowed("sagemaker:UpdateModelPackage", package, {"aws:ResourceTag/fmops:team": TEAM})
    key = f"arn:aws:kms:{REGION}:{PREPROD}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    bucket = f"arn:aws:s3:::{promoted_models_bucket_name(ORG, TEAM, PREPROD, REGION)}"
    assert allowed("kms:GenerateDataKey", key, {"kms:ViaService": f"s3.{REGION}.amazonaws.com",
                                                "kms:EncryptionContext:aws:s3:arn": bucket})
    assert not allowed("kms:GenerateDataKey", key, {"kms:EncryptionContext:aws:s3:arn": bucket}), "only through S3"
    assert not allowed("kms:Decrypt", key, {"kms:ViaService": f"s3.{REGION}.amazonaws.com",
                                            "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{ORG}-{TEAM}-data-x"})


def test_importer_registers_only_pending_team_packages(importer):
    def allowed(action: str, resource: str, context: dict | None = None) -> bool:
        return local_check_authorization_full(importer, action, resource, context or {}, None, None, None, None)

    sagemaker = f"arn:aws:sagemaker:{REGION}:{PREPROD}"
    tagged = {"aws:RequestTag/fmops:team": TEAM}
    assert allowed("sagemaker:CreateModelPackage", f"{sagemaker}:model-package/{TEAM}-bot/1", tagged)
    assert allowed("sagemaker:CreateModelPackageGroup", f"{sagemaker}:model-package-group/{TEAM}-bot", tagged)
    assert not allowed("sagemaker:CreateModelPackage", f"{sagemaker}:model-package/{TEAM}-bot/1"), "untagged"
    assert not allowed("sagemaker:CreateModelPackage", f"{sagemaker}:model-package/{TEAM}-bot/1",
                       {**tagged, "sagemaker:ModelApprovalStatus": "Approved"}), "registered approved"
    assert not allowed("sagemaker:CreateModelPackage", f"{sagemaker}:model-package/risk-bot/1",
                       {"aws:RequestTag/fmops:team": "risk"})
    assert not allowed("sagemaker:UpdateModelPackage", f"{sagemaker}:model-package/{TEAM}-bot/1",
                       {"aws:ResourceTag/fmops:team": TEAM}), "approving is a person's decision"
    bucket = f"arn:aws:s3:::{promoted_models_bucket_name(ORG, TEAM, PREPROD, REGION)}"
    assert allowed("s3:GetObject", f"{bucket}/incoming/{DEV}/{TEAM}-bot/1/manifest.json")
    assert allowed("s3:PutObject", f"{bucket}/registered/{DEV}/{TEAM}-bot/1.json")
    assert not allowed("s3:PutObject", f"{bucket}/incoming/{DEV}/{TEAM}-bot/1/manifest.json"), "no forged manifests"
    assert not allowed("s3:GetObject", f"arn:aws:s3:::{ORG}-{TEAM}-data-{PREPROD}-{REGION}/data/x.csv")


# -- the Lambda code --------------------------------------------------------------------------


def _module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("promotion_under_test", RUNTIME / "promotion.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


promotion = _module()
SOURCE_BUCKET = f"{ORG}-{TEAM}-data-{DEV}-{REGION}"
TARGET_BUCKET = promoted_models_bucket_name(ORG, TEAM, PREPROD, REGION)
PACKAGE = f"arn:aws:sagemaker:{REGION}:{DEV}:model-package/{TEAM}-bot/3"
RUN = f"s3://{SOURCE_BUCKET}/projects/bot/runs/exec-1"
IMAGE = f"{MIRROR}huggingface-pytorch-tgi-inference:2.4-tgi2.4-gpu-py311"


def _client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def _described(status: str = "Approved", group: str = f"{TEAM}-bot", model: str = f"{RUN}/FineTune/j/output/model.tar.gz"):
    return {"ModelPackageGroupName": group, "ModelPackageVersion": 3, "ModelPackageArn": PACKAGE,
            "ModelPackageName": group, "ModelPackageStatus": "Completed", "ModelApprovalStatus": status,
            "CreationTime": "2026-01-01T00:00:00Z", "ModelPackageDescription": "LoRA on falcon",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "InferenceSpecification": {"Containers": [{"Image": IMAGE, "ModelDataUrl": model}],
                                       "SupportedContentTypes": ["application/json"],
                                       "SupportedResponseMIMETypes": ["application/json"],
                                       "SupportedRealtimeInferenceInstanceTypes": ["ml.g5.2xlarge"]},
            "ModelMetrics": {"ModelQuality": {"Statistics": {
                "ContentType": "application/json", "S3Uri": f"{RUN}/Evaluate/evaluation/evaluation.json"}}}}


def _promoter(sagemaker, s3):
    return promotion.Promoter(sagemaker=sagemaker, s3=s3, settings={
        "TEAM": TEAM, "ACCOUNT": DEV, "TARGET_ACCOUNT": PREPROD, "TARGET_BUCKET": TARGET_BUCKET,
        "SOURCE_BUCKETS": SOURCE_BUCKET})


def _expect_copy(stub: Stubber, source_key: str, key: str) -> None:
    stub.add_response("head_object", {"ContentLength": 1024, "ETag": '"e"'},
                      {"Bucket": SOURCE_BUCKET, "Key": source_key, "ExpectedBucketOwner": DEV})
    stub.add_response("copy_object", {}, {"Bucket": TARGET_BUCKET, "Key": key, "ExpectedBucketOwner": PREPROD,
                                          "ExpectedSourceBucketOwner": DEV, "TaggingDirective": "REPLACE",
                                          "CopySource": {"Bucket": SOURCE_BUCKET, "Key": source_key}})


def _approval() -> dict:
    return {"detail-type": "SageMaker Model Package State Change", "source": "aws.sagemaker",
            "detail": {"ModelPackageArn": PACKAGE, "ModelPackageGroupName": f"{TEAM}-bot",
                       "ModelApprovalStatus": "Approved"}}


def test_an_approval_copies_the_artifacts_and_writes_the_manifest_last():
    sagemaker, s3 = _client("sagemaker"), _client("s3")
    written: dict[str, bytes] = {}
    prefix = f"incoming/{DEV}/{TEAM}-bot/3/"
    with Stubber(sagemaker) as sm, Stubber(s3) as st:
        sm.add_response("describe_model_package", _described(), {"ModelPackageName": PACKAGE})
        _expect_copy(st, "projects/bot/runs/exec-1/FineTune/j/output/model.tar.gz", prefix + "model.tar.gz")
        _expect_copy(st, "projects/bot/runs/exec-1/Evaluate/evaluation/evaluation.json", prefix + "evaluation.json")
        st.add_response("put_object", {}, {"Bucket": TARGET_BUCKET, "Key": prefix + "manifest.json", "Body": ANY,
                                           "ContentType": "application/json", "ExpectedBucketOwner": PREPROD})
        s3.meta.events.register("before-parameter-build.s3.PutObject",
                                lambda params, **_: written.update({params["Key"]: params["Body"]}))
        result = _promoter(sagemaker, s3).promote(_approval())
        st.assert_no_pending_responses()
    assert result["to"] == f"s3://{TARGET_BUCKET}/{prefix}manifest.json"
    manifest = json.loads(written[prefix + "manifest.json"])
    assert manifest["source_model_package_arn"] == PACKAGE and manifest["source_account"] == DEV
    assert manifest["inference_specification"]["Containers"] == [
        {"Image": IMAGE, "ModelDataUrl": f"s3://{TARGET_BUCKET}/{prefix}model.tar.gz"}]
    assert manifest["model_quality"]["S3Uri"] == f"s3://{TARGET_BUCKET}/{prefix}evaluation.json"
    assert manifest["lineage"] == [PACKAGE]


def test_models_above_5_gib_are_copied_in_parts_and_an_interrupted_copy_is_aborted():
    promoter = _promoter(_client("sagemaker"), s3 := _client("s3"))
    promoter.copy_workers = 1  # the Stubber answers in order
    size = 5 * 1024**3 + 1  # 11 parts of 512 MiB, the last one 1 byte
    target = {"Bucket": TARGET_BUCKET, "Key": "incoming/k"}
    owners = {"ExpectedBucketOwner": PREPROD, "ExpectedSourceBucketOwner": DEV}
    for fails in (False, True):
        with Stubber(s3) as st:
            st.add_response("head_object", {"ContentLength": size}, {"Bucket": SOURCE_BUCKET, "Key": "projects/m",
                                                                     "ExpectedBucketOwner": DEV})
            st.add_response("create_multipart_upload", {"UploadId": "u1"}, {**target, "ExpectedBucketOwner": PREPROD})
            for number in range(1, 12):
                first = (number - 1) * promotion.PART
                params = {**target, **owners, "UploadId": "u1", "PartNumber": number, "CopySource": ANY,
                          "CopySourceRange": f"bytes={first}-{min(first + promotion.PART, size) - 1}"}
                if fails and number == 11:
                    st.add_client_error("upload_part_copy", "InternalError", http_status_code=500,
                                        expected_params=params)
                else:
                    st.add_response("upload_part_copy", {"CopyPartResult": {"ETag": f'"{number}"'}}, params)
            if fails:
                st.add_response("abort_multipart_upload", {}, {**target, "UploadId": "u1",
                                                               "ExpectedBucketOwner": PREPROD})
            else:
                st.add_response("complete_multipart_upload", {}, {
                    **target, "UploadId": "u1", "ExpectedBucketOwner": PREPROD,
                    "MultipartUpload": {"Parts": [{"PartNumber": n, "ETag": f'"{n}"'} for n in range(1, 12)]}})
            if fails:
                with pytest.raises(Exception, match="InternalError"):
                    promoter._copy(f"s3://{SOURCE_BUCKET}/projects/m", "incoming/k")
            else:
                assert promoter._copy(f"s3://{SOURCE_BUCKET}/projects/m", "incoming/k") == f"s3://{TARGET_BUCKET}/incoming/k"
            st.assert_no_pending_responses()


def test_the_promoter_refuses_other_teams_foreign_sources_and_skips_what_is_not_approved():
    sagemaker, s3 = _client("sagemaker"), _client("s3")
    with Stubber(sagemaker) as sm, Stubber(s3):
        sm.add_response("describe_model_package", _described(status="Rejected"), {"ModelPackageName": PACKAGE})
        assert "skipped" in _promoter(sagemaker, s3).promote(_approval())
        sm.add_response("describe_model_package", _described(group="risk-bot"), {"ModelPackageName": PACKAGE})
        with pytest.raises(promotion.PromotionError, match="not one of team genai's"):
            _promoter(sagemaker, s3).promote(_approval())
        sm.add_response("describe_model_package", _described(model="s3://somewhere-else/model.tar.gz"),
                        {"ModelPackageName": PACKAGE})
        with pytest.raises(promotion.PromotionError, match="outside the buckets"):
            _promoter(sagemaker, s3).promote(_approval())


def _registrar(sagemaker, s3):
    return promotion.Registrar(sagemaker=sagemaker, s3=s3, settings={
        "TEAM": TEAM, "BUCKET": TARGET_BUCKET, "SOURCE_ACCOUNT": DEV, "IMAGE_REPOSITORIES": MIRROR})


def _arrival(key: str) -> dict:
    return {"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": TARGET_BUCKET}, "object": {"key": key}}}


def _manifest(**changes: Any) -> dict:
    prefix = f"s3://{TARGET_BUCKET}/incoming/{DEV}/{TEAM}-bot/3/"
    manifest = {"format": 1, "source_account": DEV, "source_model_package_arn": PACKAGE, "group": f"{TEAM}-bot",
                "description": "LoRA on falcon", "lineage": [PACKAGE],
                "inference_specification": {
                    "Containers": [{"Image": IMAGE, "ModelDataUrl": prefix + "model.tar.gz"}],
                    "SupportedContentTypes": ["application/json"], "SupportedResponseMIMETypes": ["application/json"],
                    "SupportedRealtimeInferenceInstanceTypes": ["ml.g5.2xlarge"]},
                "model_quality": {"ContentType": "application/json", "S3Uri": prefix + "evaluation.json"}}
    return {**manifest, **changes}


KEY = f"incoming/{DEV}/{TEAM}-bot/3/manifest.json"
MARKER = f"registered/{DEV}/{TEAM}-bot/3.json"


def _missing(stub: Stubber, key: str) -> None:
    stub.add_client_error("head_object", "404", "Not Found", 404, expected_params={"Bucket": TARGET_BUCKET, "Key": key})


def test_an_arriving_manifest_is_registered_pending_manual_approval():
    sagemaker, s3 = _client("sagemaker"), _client("s3")
    new = f"arn:aws:sagemaker:{REGION}:{PREPROD}:model-package/{TEAM}-bot/1"
    manifest = _manifest()
    with Stubber(sagemaker) as sm, Stubber(s3) as st:
        _missing(st, MARKER)
        st.add_response("get_object", {"Body": io.BytesIO(json.dumps(manifest).encode())},
                        {"Bucket": TARGET_BUCKET, "Key": KEY})
        sm.add_client_error("describe_model_package_group", "ValidationException", "does not exist",
                            expected_params={"ModelPackageGroupName": f"{TEAM}-bot"})
        sm.add_response("create_model_package_group", {"ModelPackageGroupArn": new.replace("package/", "package-group/")},
                        {"ModelPackageGroupName": f"{TEAM}-bot", "ModelPackageGroupDescription": ANY,
                         "Tags": [{"Key": "fmops:team", "Value": TEAM}]})
        sm.add_response("create_model_package", {"ModelPackageArn": new}, {
            "ModelPackageGroupName": f"{TEAM}-bot", "ModelPackageDescription": "LoRA on falcon",
            "InferenceSpecification": manifest["inference_specification"],
            "ModelApprovalStatus": "PendingManualApproval",
            "ModelMetrics": {"ModelQuality": {"Statistics": manifest["model_quality"]}},
            "CustomerMetadataProperties": {"fmops:source-model-package": PACKAGE, "fmops:source-account": DEV},
            "ClientToken": ANY, "Tags": [{"Key": "fmops:team", "Value": TEAM}]})
        st.add_response("put_object", {}, {"Bucket": TARGET_BUCKET, "Key": MARKER, "Body": ANY,
                                           "ContentType": "application/json"})
        assert _registrar(sagemaker, s3).register(_arrival(KEY)) == {"registered": new,
                                                                     "status": "PendingManualApproval"}
        sm.assert_no_pending_responses()


def test_a_manifest_registered_before_is_skipped():
    sagemaker, s3 = _client("sagemaker"), _client("s3")
    with Stubber(sagemaker), Stubber(s3) as st:
        st.add_response("head_object", {"ContentLength": 10}, {"Bucket": TARGET_BUCKET, "Key": MARKER})
        assert "skipped" in _registrar(sagemaker, s3).register(_arrival(KEY))


@pytest.mark.parametrize(("key", "manifest", "message"), [
    (f"incoming/{PROD}/{TEAM}-bot/3/manifest.json", None, "from account 333333333331"),
    (f"incoming/{DEV}/risk-bot/3/manifest.json", None, "only team genai's models"),
    (f"incoming/{DEV}/{TEAM}-bot/3/other.json", None, "not a manifest"),
    (KEY, _manifest(group=f"{TEAM}-other"), "another group or account"),
    (KEY, _manifest(source_model_package_arn=f"arn:aws:sagemaker:{REGION}:{PROD}:model-package/{TEAM}-bot/3"),
     "another group or account"),
    (KEY, _manifest(inference_specification={"Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://x/model.tar.gz"}]}),
     "must lie below"),
    (KEY, _manifest(inference_specification={"Containers": [{
        "Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/any/image:1",
        "ModelDataUrl": f"s3://{TARGET_BUCKET}/incoming/{DEV}/{TEAM}-bot/3/model.tar.gz"}]}), "organisation's mirror"),
])
def test_the_importer_refuses_what_did_not_come_from_the_previous_stage(key, manifest, message):
    sagemaker, s3 = _client("sagemaker"), _client("s3")
    with Stubber(sagemaker), Stubber(s3) as st:
        if manifest is not None:
            _missing(st, MARKER)
            st.add_response("get_object", {"Body": io.BytesIO(json.dumps(manifest).encode())},
                            {"Bucket": TARGET_BUCKET, "Key": key})
        with pytest.raises(promotion.PromotionError, match=message):
            _registrar(sagemaker, s3).register(_arrival(key))


def test_what_preprod_approves_goes_on_to_prod_with_its_lineage():
    """In preprod the package's artifacts are in the promoted-models bucket: its promoter takes them from
    there and names the dev package in the lineage."""
    sagemaker, s3 = _client("sagemaker"), _client("s3")
    source = promoted_models_bucket_name(ORG, TEAM, PREPROD, REGION)
    target = promoted_models_bucket_name(ORG, TEAM, PROD, REGION)
    preprod_package = f"arn:aws:sagemaker:{REGION}:{PREPROD}:model-package/{TEAM}-bot/1"
    described = _described(model=f"s3://{source}/incoming/{DEV}/{TEAM}-bot/3/model.tar.gz")
    described.pop("ModelMetrics")
    described.update(ModelPackageArn=preprod_package, ModelPackageVersion=1,
                     CustomerMetadataProperties={"fmops:source-model-package": PACKAGE})
    written: dict[str, bytes] = {}
    with Stubber(sagemaker) as sm, Stubber(s3) as st:
        sm.add_response("describe_model_package", described, {"ModelPackageName": preprod_package})
        st.add_response("head_object", {"ContentLength": 1024},
                        {"Bucket": source, "Key": ANY, "ExpectedBucketOwner": PREPROD})
        st.add_response("copy_object", {}, {"Bucket": target, "Key": f"incoming/{PREPROD}/{TEAM}-bot/1/model.tar.gz",
                                            "ExpectedBucketOwner": PROD, "ExpectedSourceBucketOwner": PREPROD,
                                            "TaggingDirective": "REPLACE", "CopySource": ANY})
        st.add_response("put_object", {}, {"Bucket": target, "Key": ANY, "Body": ANY,
                                           "ContentType": "application/json", "ExpectedBucketOwner": PROD})
        s3.meta.events.register("before-parameter-build.s3.PutObject",
                                lambda params, **_: written.update({params["Key"]: params["Body"]}))
        promotion.Promoter(sagemaker=sagemaker, s3=s3, settings={
            "TEAM": TEAM, "ACCOUNT": PREPROD, "TARGET_ACCOUNT": PROD, "TARGET_BUCKET": target,
            "SOURCE_BUCKETS": f"{ORG}-{TEAM}-data-{PREPROD}-{REGION},{source}"}).promote(
            {"detail": {"ModelPackageArn": preprod_package}})
    [manifest] = [json.loads(body) for body in written.values()]
    assert manifest["lineage"] == [PACKAGE, preprod_package]
    assert "model_quality" not in manifest


def test_the_runtime_folder_holds_only_the_function_code():
    assert sorted(p.name for p in RUNTIME.iterdir() if p.name != "__pycache__") == ["promotion.py"]
