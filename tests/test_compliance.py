"""The compliance gates themselves: they run at synth, fail it, and every acknowledgment is real."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack
from aws_cdk import aws_s3 as s3

from fmops_constructs.acknowledge import ACKNOWLEDGMENTS, WILDCARD_REASON
from infra.app.builder import new_app
from infra.assembly import read_stacks
from infra.compliance.checks import NAG_PACKS, add_compliance_checks
from infra.tools.report import stack_acknowledgments


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
    # A rule may be accepted in different places for different reasons: each (rule, reason) pair
    # is registered, and every one is used. Every stack counts, those of the workload accounts'
    # stages (nested assemblies) included.
    registered = {(rule, a.reason) for a in ACKNOWLEDGMENTS.values() for rule in a.rules}
    registered_rules = {rule for rule, _ in registered}
    used = set()
    for stack in read_stacks(default_assembly):
        for rules in stack_acknowledgments(stack):
            for rule, reason in rules.items():
                if not rule.startswith(NAG_PACKS) and rule not in registered_rules:
                    continue  # CDK's own acknowledgments, e.g. cfn-lint W3010 for explicit AZs
                if rule.startswith("AwsSolutions-IAM5[") and reason.startswith(WILDCARD_REASON):
                    continue  # one finding at a time, for generated policies (acknowledge_wildcards)
                assert (rule, reason) in registered, rule
                used.add((rule, reason))
    assert used == registered, f"registered but never used: {registered - used}"


@pytest.mark.parametrize("key", sorted(ACKNOWLEDGMENTS))
def test_every_acknowledgment_has_a_reviewable_reason(key):
    accepted = ACKNOWLEDGMENTS[key]
    assert accepted.rules or accepted.checkov
    assert len(accepted.reason) >= 120, "a reason must explain the risk and why it is acceptable"


def test_constructs_write_the_exemption_key_the_verifier_reads():
    from fmops_constructs.aspects import INTERNET_FREE_EXEMPT
    from infra.compliance.internet_free import EXEMPT_KEY

    assert INTERNET_FREE_EXEMPT == EXEMPT_KEY


def test_cost_tag_check_knows_taggable_types_from_the_resource_schemas():
    from infra.compliance.cost_tags import check_template

    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "fmops:organisation", "Value": "o"}]}},
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Tags": {"fmops:organisation": "o", "fmops:cost-centre": "c"}}},
        "Assoc": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {}},
        "Custom": {"Type": "Custom::Thing", "Properties": {}},
    }}
    [untagged] = check_template(template, "t.json")
    assert (untagged.logical_id, untagged.missing) == ("Bucket", ("fmops:cost-centre",))


def test_an_untagged_resource_fails_the_synth(tmp_path):
    from aws_cdk import CfnResource

    app = new_app(outdir=str(tmp_path))
    stack = Stack(app, "Untagged")
    CfnResource(stack, "Topic", type="AWS::SNS::Topic", properties={"KmsMasterKeyId": "alias/aws/sns"})
    add_compliance_checks(app)
    with pytest.raises(RuntimeError):
        app.synth()
    report = json.loads((tmp_path / "policy-validation-report.json").read_text())
    assert "COST-TAGS" in {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}


def test_every_resource_bills_to_a_cost_centre(default_templates):
    from infra.config import load_config

    config = load_config()
    centres = {team.name: team.cost_centre for team in config.teams}
    accounts = sorted((a.name for a in config.accounts), key=len, reverse=True)
    checked = 0
    for name, template in default_templates.items():
        rest = name.removeprefix("fmops-")
        if rest.endswith("-pipeline"):  # <org>-<team>-pipeline, in the governance account
            owner = rest.removesuffix("-pipeline")
        else:
            account = next(a for a in accounts if rest.startswith(a + "-"))
            owner = rest.removeprefix(account + "-").split("-")[0]
        expected = centres.get(owner, config.organisation.cost_centre)
        for resource in template["Resources"].values():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list):
                values = {t.get("Key"): t.get("Value") for t in tags if isinstance(t, dict)}
                if "fmops:cost-centre" in values:
                    assert values["fmops:cost-centre"] == expected, (name, resource["Type"])
                    checked += 1
    assert checked > 100
