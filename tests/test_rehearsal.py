"""The deploy rehearsal, and on the templates what the emulator skips.

``scripts/rehearse.py`` runs once (xdist group ``rehearsal``): moto's server, the real CDK CLI
bootstrapping, deploying and destroying the single-account app, boto3 checks in between. The
other tests assert on the same config's templates what moto's CloudFormation does not create.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from types import ModuleType

import pytest

from tests.conftest import REPO, resources

REHEARSE = REPO / "scripts" / "rehearse.py"
REHEARSAL_TIMEOUT_S = 1800
MUST_PASS = ("cdk bootstrap", "cdk synth", "cdk deploy", "stacks", "resources created", "VPC without internet",
             "VPC endpoints", "endpoint security group", "bucket encryption", "KMS keys", "flow logs", "Lambda in VPC",
             "provision products")
# Checks the emulator may be unable to show; the rehearsal then says why (see the script's docstring).
EMULATOR_LIMITS = {"stacks the emulator can deploy", "custom resources", "permission boundaries", "cdk destroy",
                   "retained on destroy", "products the emulator cannot provision", "declared projects"}

pytestmark = pytest.mark.xdist_group("rehearsal")


def _script() -> ModuleType:
    """scripts/rehearse.py as a module (scripts/ is not a package)."""
    if "rehearse" not in sys.modules:
        spec = importlib.util.spec_from_file_location("rehearse", REHEARSE)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules["rehearse"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules["rehearse"]


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path_factory.mktemp("rehearsal") / "report.json"
    process = subprocess.Popen([sys.executable, str(REHEARSE), "--report", str(report)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=REHEARSAL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.terminate()  # on SIGTERM the script stops the CDK CLI and the emulator it started
        out, err = process.communicate(timeout=60)
        err += f"\nthe rehearsal did not finish within {REHEARSAL_TIMEOUT_S}s"
    result = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return result, json.loads(report.read_text()) if report.exists() else {}


def test_rehearsal_deploys_checks_and_destroys(rehearsal) -> None:
    result, report = rehearsal
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert {name: statuses.get(name) for name in MUST_PASS} == {name: "PASS" for name in MUST_PASS}
    assert {name for name, status in statuses.items() if status != "PASS"} <= EMULATOR_LIMITS
    assert "fmops-sandbox-platform" not in report["left_out"], "the network is always rehearsed"
    assert "PASS:" in result.stdout and "emulator: stopped" in result.stdout


def _resource(resource_type: str, **properties: object) -> dict:
    return {"Type": resource_type, "Properties": properties}


def test_stacks_reading_attributes_moto_lacks_are_left_out_with_their_dependents() -> None:
    script = _script()
    guardrail_arn = {"Fn::GetAtt": ["Guardrail", "GuardrailArn"]}
    templates = {
        "genai": {"Resources": {"Guardrail": _resource("AWS::Bedrock::Guardrail"),
                                "Role": _resource("AWS::IAM::Role", Policies=[{"Resource": guardrail_arn}])}},
        "dns": {"Resources": {"List": _resource("AWS::Route53Resolver::FirewallDomainList"),
                              "Rules": _resource("AWS::Route53Resolver::FirewallRuleGroup",
                                                 FirewallRules=[{"FirewallDomainListId": {"Fn::GetAtt": ["List", "Id"]}}]),
                              "Vpc": _resource("AWS::EC2::VPC")}},
        "app": {"Resources": {"Bucket": _resource("AWS::S3::Bucket")}},
        "studio": {"Resources": {"Domain": _resource("AWS::SageMaker::Domain")},
                   "Outputs": {"Url": {"Value": {"Fn::Sub": "https://${Domain.Url}/"}}}},
    }
    assembly = script.Assembly(templates, {"genai": [], "dns": [], "app": ["genai", "dns"], "studio": []})
    reasons = script.left_out(assembly, script.implemented_types())
    assert set(reasons) == {"genai", "app", "studio"}
    assert "Guardrail (AWS::Bedrock::Guardrail)" in reasons["genai"] and reasons["app"] == "depends on genai"
    assert "Domain (AWS::SageMaker::Domain)" in reasons["studio"]


def test_provisioned_products_are_named_and_reported(rehearsal) -> None:
    """At least one product of the catalog is launched in the emulator; those it cannot create are
    named with why."""
    _, report = rehearsal
    checks = {check["name"]: check for check in report["checks"]}
    provisioned = checks["provision products"]["detail"]
    assert "FM fine-tuning (PEFT)" in provisioned and "resources;" in provisioned
    cannot = checks.get("products the emulator cannot provision")
    assert cannot is None or cannot["status"] == "NOT REHEARSED"


def test_declared_projects_are_reported_not_rehearsed_while_moto_lacks_them() -> None:
    """The default config's declared project is named NOT REHEARSED with why and where it is
    asserted; a moto that implements the type fails the check instead of passing it silently."""
    from infra.config import load_config

    script = _script()
    config = load_config(REPO / "config" / "default.yaml")
    implemented = script.implemented_types()
    assert script.PROJECT_TYPE not in implemented
    with pytest.raises(script.NotRehearsed, match=r"genai/support-assistant \(genai-app\): moto implements no "
                       r"AWS::SageMaker::Project.*test_declared_projects\.py"):
        script.check_declared_projects(config, implemented)
    with pytest.raises(AssertionError, match="moto now implements"):
        script.check_declared_projects(config, implemented | {script.PROJECT_TYPE})


def test_a_launch_gives_every_parameter_without_a_default() -> None:
    template = {"Parameters": {"SageMakerProjectName": {"Type": "String"}, "SageMakerProjectId": {"Type": "String"},
                               "Model": {"Type": "String", "AllowedValues": ["a", "b"]},
                               "Folder": {"Type": "String"}, "Platform": {"Type": "String", "Default": "/x/y"}}}
    given = {p["ParameterKey"]: p["ParameterValue"] for p in _script().launch_parameters(template, 3)}
    assert given == {"SageMakerProjectName": "rehearsal3", "SageMakerProjectId": "p-rehearsal3", "Model": "a",
                     "Folder": "rehearsal3"}
    [(pattern, _)] = _script().PROVISION_LIMITS
    assert pattern.search("Value 'ml.g5.12xlarge' at 'instanceType' failed to satisfy constraint: Member must "
                          "satisfy enum value set: ['ml.m5.large']")
    assert not pattern.search("Value 'x' at 'roleArn' failed to satisfy constraint")


def test_stacks_are_destroyed_before_the_stacks_they_depend_on() -> None:
    script = _script()
    deployed = script.Deployed({name: {"Resources": {}} for name in ("platform", "team", "app")}, {})
    assembly = script.Assembly(deployed.templates, {"platform": [], "team": ["platform"],
                                                               "app": ["team", "platform"]})
    assert script.destroy_order(deployed, assembly) == ["app", "team", "platform"]


def test_a_config_with_several_accounts_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert _script().main(["--config", str(REPO / "config" / "default.yaml")]) == 2
    assert "takes a single-account config" in capsys.readouterr().err


def test_dns_firewall_the_emulator_skips(single_templates) -> None:
    template = single_templates["fmops-sandbox-platform"]
    lists = resources(template, "AWS::Route53Resolver::FirewallDomainList")
    [(group_id, group)] = resources(template, "AWS::Route53Resolver::FirewallRuleGroup").items()
    [association] = resources(template, "AWS::Route53Resolver::FirewallRuleGroupAssociation").values()
    [vpc_id] = resources(template, "AWS::EC2::VPC")
    allow, block = sorted(group["Properties"]["FirewallRules"], key=lambda rule: rule["Priority"])
    assert (allow["Action"], block["Action"], block["BlockResponse"]) == ("ALLOW", "BLOCK", "NXDOMAIN")
    allowed = lists[allow["FirewallDomainListId"]["Fn::GetAtt"][0]]["Properties"]["Domains"]
    assert "*.amazonaws.com" in allowed and "*" not in allowed
    assert lists[block["FirewallDomainListId"]["Fn::GetAtt"][0]]["Properties"]["Domains"] == ["*"]
    props = association["Properties"]
    assert props["VpcId"] == {"Ref": vpc_id} and props["FirewallRuleGroupId"] == {"Fn::GetAtt": [group_id, "Id"]}
    assert props["MutationProtection"] == "ENABLED"


def test_bucket_policies_the_emulator_skips(single_templates) -> None:
    checked = 0
    for name, template in single_templates.items():
        policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
                    for p in resources(template, "AWS::S3::BucketPolicy").values()}
        for bucket_id, bucket in resources(template, "AWS::S3::Bucket").items():
            checked += 1
            statements = policies[bucket_id]
            assert any(s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool") == {"aws:SecureTransport": "false"}
                       for s in statements), f"{name}/{bucket_id}: TLS"
            vpce = next(s for s in statements if s.get("Sid") == "DenyOutsideVpcEndpoint")
            assert vpce["Effect"] == "Deny" and "aws:SourceVpce" in vpce["Condition"]["StringNotEquals"]
            props = bucket["Properties"]
            assert set(props["PublicAccessBlockConfiguration"].values()) == {True}, f"{name}/{bucket_id}"
            assert props["VersioningConfiguration"] == {"Status": "Enabled"}, f"{name}/{bucket_id}"
    assert checked >= 2, "the access-log bucket and the team's data bucket"
