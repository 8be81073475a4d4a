"""The compliance gates themselves: they run at synth, fail it, and every acknowledgment is real."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack
from aws_cdk import aws_s3 as s3

from fmops_constructs.acknowledge import ACKNOWLEDGMENTS
from infra.app_builder import new_app
from infra.compliance.checks import NAG_PACKS, add_compliance_checks
from infra.report import acknowledgments


def test_an_unacknowledged_nag_finding_fails_the_synth(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stack = Stack(app, "Careless")
    s3.Bucket(stack, "Plain")  # no KMS, no logging, no TLS-only policy, no VPC endpoint policy
    add_compliance_checks(app)
    with pytest.raises(RuntimeError) as caught:
        app.synth()
    report = json.loads((tmp_path / "policy-validation-report.json").read_text())
    failed = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10", "HIPAA.Security-S3DefaultEncryptionKMS",
            "NIST.800.53.R5-S3BucketLoggingEnabled"} <= failed, failed
    assert str(caught.value).startswith("ValidationFailed")


def test_default_app_acknowledges_only_registered_rules_with_their_reasons(default_assembly):
    manifest = json.loads((default_assembly / "manifest.json").read_text())
    registered = {rule: a.reason for a in ACKNOWLEDGMENTS.values() for rule in a.rules}
    used = set()
    for artifact in manifest["artifacts"].values():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        for rules in acknowledgments(default_assembly, artifact):
            for rule, reason in rules.items():
                if not rule.startswith(NAG_PACKS) and rule not in registered:
                    continue  # CDK's own acknowledgments, e.g. cfn-lint W3010 for explicit AZs
                assert registered.get(rule) == reason, rule
                used.add(rule)
    assert used == set(registered), f"registered but never used: {set(registered) - used}"


@pytest.mark.parametrize("key", sorted(ACKNOWLEDGMENTS))
def test_every_acknowledgment_has_a_reviewable_reason(key):
    accepted = ACKNOWLEDGMENTS[key]
    assert accepted.rules or accepted.checkov
    assert len(accepted.reason) >= 120, "a reason must explain the risk and why it is acceptable"


def test_constructs_write_the_exemption_key_the_verifier_reads():
    from fmops_constructs.aspects import INTERNET_FREE_EXEMPT
    from infra.compliance.internet_free import EXEMPT_KEY

    assert INTERNET_FREE_EXEMPT == EXEMPT_KEY
