"""LogArchive, AuditTrail and ConfigRecorder alone: an Object-Lock, KMS archive written only by its
trail and the named recorders, and recorders that reach a remote archive's key by alias only."""

from __future__ import annotations

import pytest
from aws_cdk import aws_s3 as s3

from fmops_constructs.audit import MANAGED_RULES, AuditTrail, ConfigRecorder, LogArchive
from tests.constructs.bare import ACCOUNT, ORG, app_names, bare_stack, only, resources, template

ENDPOINT = "vpce-0123456789abcdef0"
OTHER = "210987654321"
ROLE = f"{ORG}-recorder"


@pytest.fixture(scope="module")
def archive_account():
    stack = bare_stack()
    logs = s3.Bucket.from_bucket_name(stack, "Logs", f"{ORG}-logs")
    archive = LogArchive(stack, "Archive", bucket_name=f"{ORG}-archive", key_alias=f"alias/{ORG}/archive",
                         trail_name=f"{ORG}-trail", access_logs=logs, vpc_endpoint_ids=[ENDPOINT],
                         recorder_account_ids=[ACCOUNT, OTHER],
                         recorder_role_arns=[f"arn:aws:iam::{a}:role/{ROLE}" for a in (ACCOUNT, OTHER)],
                         retention_days=30, lock_mode="COMPLIANCE")
    AuditTrail(stack, "Trail", archive=archive, trail_name=f"{ORG}-trail", data_event_buckets=[f"{ORG}-data"],
               organisation_trail=False)
    ConfigRecorder(stack, "Recorder", role_name=ROLE, archive_bucket=f"{ORG}-archive",
                   archive_key_arn=archive.key.key_arn)
    return template(stack)


@pytest.fixture(scope="module")
def remote_recorder():
    stack = bare_stack(account=OTHER)
    ConfigRecorder(stack, "Recorder", role_name=ROLE, archive_bucket=f"{ORG}-archive", archive_account=ACCOUNT,
                   archive_key_alias=f"alias/{ORG}/archive")
    return template(stack)


def _statements(template_: dict, resource_type: str) -> list[dict]:
    document = "KeyPolicy" if resource_type == "AWS::KMS::Key" else "PolicyDocument"
    return [s for r in resources(template_, resource_type).values() for s in r["Properties"][document]["Statement"]]


def _text(value) -> str:
    """An ARN as text: ``Fn::Join`` parts joined, the partition written as ``aws``."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join("aws" if p == {"Ref": "AWS::Partition"} else _text(p) for p in parts)
    return value


def test_archive_is_locked_encrypted_and_retained(archive_account):
    [(logical_id, bucket)] = resources(archive_account, "AWS::S3::Bucket").items()
    assert logical_id.startswith("ArchiveBucket") and bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 30}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
        "SSEAlgorithm"] == "aws:kms"
    assert props["LoggingConfiguration"]["DestinationBucketName"] == f"{ORG}-logs"


def test_only_the_trail_and_the_named_recorders_write(archive_account):
    statements = {s["Sid"]: s for s in _statements(archive_account, "AWS::S3::BucketPolicy") if "Sid" in s}
    trail_arn = statements["CloudTrailWrite"]["Condition"]["StringEquals"]["aws:SourceArn"]
    assert f":trail/{ORG}-trail" in str(trail_arn)
    assert statements["ConfigRecorderRolesWrite"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::{a}:role/{ROLE}" for a in (ACCOUNT, OTHER)]
    deny = statements["DenyOutsideVpcEndpoint"]
    assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"] == [ENDPOINT]
    key = _statements(archive_account, "AWS::KMS::Key")
    trail_key = next(s for s in key if s.get("Sid") == "CloudTrailEncryptsForTheTrail")
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in trail_key["Condition"]["StringLike"]
    recorder_key = next(s for s in key if s.get("Sid") == "ConfigRecorderRolesEncryptDeliveries")
    assert recorder_key["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"


def test_trail_validates_log_files_and_records_the_data_bucket(archive_account):
    trail = only(archive_account, "AWS::CloudTrail::Trail")
    assert trail["EnableLogFileValidation"] is True and trail["IsOrganizationTrail"] is False
    arns = [f["StartsWith"] for s in trail["AdvancedEventSelectors"] for f in s["FieldSelectors"]
            if f["Field"] == "resources.ARN"]
    assert [[_text(a) for a in values] for values in arns] == [[f"arn:aws:s3:::{ORG}-data/"]]


def test_recorder_rules_and_local_key(archive_account):
    rules = resources(archive_account, "AWS::Config::ConfigRule")
    assert sorted(r["Properties"]["Source"]["SourceIdentifier"] for r in rules.values()) == sorted(MANAGED_RULES)
    kms = [s for s in _statements(archive_account, "AWS::IAM::Policy") if "kms:GenerateDataKey" in s["Action"]]
    assert len(kms) == 1 and "Fn::GetAtt" in kms[0]["Resource"]


def test_remote_recorder_reaches_the_archive_key_by_alias_through_s3_only(remote_recorder):
    [kms] = [s for s in _statements(remote_recorder, "AWS::IAM::Policy") if "kms:GenerateDataKey" in s["Action"]]
    assert _text(kms["Resource"]) == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"
    assert kms["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == [f"alias/{ORG}/archive"]
    [put] = [s for s in _statements(remote_recorder, "AWS::IAM::Policy") if s["Action"] == "s3:PutObject"]
    assert _text(put["Resource"]) == f"arn:aws:s3:::{ORG}-archive/config/AWSLogs/{OTHER}/Config/*"


def test_remote_recorder_needs_the_archive_key_or_its_alias():
    with pytest.raises(ValueError, match="archive_key_arn"):
        ConfigRecorder(bare_stack(), "Recorder", role_name=ROLE, archive_bucket="b")


def test_no_app_names(archive_account, remote_recorder):
    assert app_names(archive_account) == [] and app_names(remote_recorder) == []
