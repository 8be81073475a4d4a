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
from infra.compliance.control_tower import PLUGIN_NAME as CONTROL_TOWER
from infra.tools.report import ACK_TYPE, stack_acknowledgments


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


def test_default_app_acknowledges_only_registered_rules_with_their_reasons(default_assembly, single_assembly):
    # A rule may be accepted in different places for different reasons: each (rule, reason) pair
    # is registered, and every one is used by one of the shipped configs (a log retention under a
    # year: the single-account trial's). Every stack counts, those of the workload accounts'
    # stages (nested assemblies) included.
    registered = {(rule, a.reason) for a in ACKNOWLEDGMENTS.values() for rule in a.rules}
    registered_rules = {rule for rule, _ in registered}
    used = set()
    for stack in [*read_stacks(default_assembly), *read_stacks(single_assembly)]:
        for rules in stack_acknowledgments(stack):
            for rule, reason in rules.items():
                if not rule.startswith((*NAG_PACKS, CONTROL_TOWER)) and rule not in registered_rules:
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


def _control_tower_app(tmp_path, acknowledged: bool):
    from aws_cdk import Acknowledgment, Validations
    from aws_cdk import aws_logs as logs

    from infra.compliance.control_tower import ControlTowerChecks
    app = new_app(outdir=str(tmp_path))
    stack = Stack(app, "ShortLogs")
    first = logs.LogGroup(stack, "First", retention=logs.RetentionDays.ONE_WEEK)
    logs.LogGroup(stack, "Second", retention=logs.RetentionDays.ONE_WEEK)
    if acknowledged:  # one acknowledgment must not let the other findings pass (CDK recomputes the verdict)
        Validations.of(first).acknowledge(Acknowledgment(id=f"{CONTROL_TOWER}::CT.CLOUDWATCH.PR.2", reason="test"))
    Validations.of(app).add_plugins(ControlTowerChecks())
    return app


@pytest.mark.parametrize("acknowledged", [False, True])
def test_an_unacknowledged_control_tower_finding_fails_the_synth(tmp_path, acknowledged):
    app = _control_tower_app(tmp_path, acknowledged)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    [report] = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    failed = {(v["ruleName"], c["constructPath"]) for v in report["violations"] for c in v["violatingConstructs"]}
    assert ("CT.CLOUDWATCH.PR.2", "ShortLogs/Second/Resource") in failed  # retention under a year
    assert ("CT.CLOUDWATCH.PR.3", "ShortLogs/First/Resource") in failed  # no KMS key
    assert (("CT.CLOUDWATCH.PR.2", "ShortLogs/First/Resource") in failed) is not acknowledged


def test_a_failed_check_without_a_resource_path_names_the_resources_its_rule_selects(tmp_path):
    """cfn-guard reports CT.CLOUDWATCH.PR.3 for a KmsKeyId that is a template parameter without a
    traversed path (the package's own reader fails on it): the gate names the log group."""
    from aws_cdk import CfnParameter, Validations
    from aws_cdk import aws_logs as logs

    from infra.compliance.control_tower import ControlTowerChecks
    app = new_app(outdir=str(tmp_path))
    stack = Stack(app, "ParameterKey")
    key = CfnParameter(stack, "KeyArn", type="String")
    logs.CfnLogGroup(stack, "Logs", retention_in_days=400, kms_key_id=key.value_as_string)
    Validations.of(app).add_plugins(ControlTowerChecks())
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    [report] = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    failed = {(v["ruleName"], c["constructPath"]) for v in report["violations"] for c in v["violatingConstructs"]}
    assert ("CT.CLOUDWATCH.PR.3", "ParameterKey/Logs") in failed, failed


def test_the_gate_gives_the_verdicts_of_every_rule_over_the_whole_template(default_assembly):
    """The gate runs each group of rules over a copy of a template that holds only the resource
    types the rules select; on a sample of the shipped templates (a team stack with the persona
    policies, a product, the governance platform stack), every rule over the whole template fails
    the same resources."""
    from pathlib import Path

    from infra.compliance import control_tower
    sample = [next(default_assembly.rglob(pattern)) for pattern in
              ("*riskdevrisk[0-9A-F]*.template.json", "*CatalogFmHosting*.product.template.json",
               "fmops-tooling-platform.template.json")]
    rules = sorted(control_tower.rule_files())

    def located(violations) -> set[tuple[str, str, str]]:
        return {(v.rule_name, Path(r.template_path).name, r.resource_logical_id)
                for v in violations for r in v.violating_resources}

    whole = set()
    for template in sample:
        [report] = control_tower._guard(rules, [template])
        whole |= located(control_tower._violations(report, rules, template))
    assert whole and located(control_tower.check_templates(sample)) == whole


def _suppressed(assembly) -> set[tuple[str, str]]:
    reports = json.loads((assembly / "validation-report.json").read_text())["pluginReports"]
    return {(v["acknowledgedId"], v["acknowledgedAt"]) for r in reports if r["pluginName"] == CONTROL_TOWER
            for v in r.get("suppressedViolations") or []}


def test_every_control_tower_acknowledgment_suppresses_a_finding(default_assembly, single_assembly):
    """No registered Control Tower exception is dead: each suppresses a real finding of a shipped
    config, and the exceptions that are only about Control Tower suppress one wherever placed."""
    suppressed = _suppressed(default_assembly) | _suppressed(single_assembly)
    registered = {rule for a in ACKNOWLEDGMENTS.values() for rule in a.rules if rule.startswith(f"{CONTROL_TOWER}::")}
    assert registered and registered <= {rule for rule, _ in suppressed}, registered - {r for r, _ in suppressed}
    only_control_tower = {rule: a.reason for a in ACKNOWLEDGMENTS.values()
                          if a.rules and all(r.startswith(f"{CONTROL_TOWER}::") for r in a.rules) for rule in a.rules}
    for assembly in (default_assembly, single_assembly):
        for stack in read_stacks(assembly):
            for path, entries in stack.metadata.items():
                placed: dict[str, set[str]] = {}  # reason -> its rules acknowledged at this path
                for entry in entries:
                    for rule, reason in (entry["data"].items() if entry.get("type") == ACK_TYPE else ()):
                        if only_control_tower.get(rule) == reason:
                            placed.setdefault(reason, set()).add(rule)
                for rules in placed.values():
                    assert any((rule, path.lstrip("/")) in suppressed for rule in rules), (sorted(rules), path)
