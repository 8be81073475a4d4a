"""retained_log_group: a named log group, KMS-encrypted, kept for the given days and on delete."""

from __future__ import annotations

import pytest

from fmops_constructs.kms import EncryptionKey
from fmops_constructs.log_group import retained_log_group
from tests.constructs.bare import ORG, TEAM, app_names, bare_stack, resources, template


@pytest.fixture(scope="module")
def synthesized():
    stack = bare_stack()
    key = EncryptionKey(stack, "Key", alias="alias/logs", description="logs")
    retained_log_group(stack, "Logs", name=f"/{ORG}/{TEAM}/app", key=key, retention_days=400)
    return template(stack)


def test_named_encrypted_kept_for_the_days_given_and_retained(synthesized):
    [group] = resources(synthesized, "AWS::Logs::LogGroup").values()
    assert group["Properties"]["LogGroupName"] == f"/{ORG}/{TEAM}/app"
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"
    assert group["Properties"]["RetentionInDays"] == 400  # any day count CloudWatch accepts
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"


def test_carries_no_app_names(synthesized):
    assert app_names(synthesized) == []
