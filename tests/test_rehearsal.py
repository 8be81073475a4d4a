"""The deploy rehearsal, and on the templates what the emulator skips.

``scripts/rehearse.py`` runs twice (xdist group ``rehearsal``): moto's server, the real CDK CLI
bootstrapping, deploying and destroying the single-account app, boto3 checks in between; and mode
organisation on config/default.yaml with ``--accounts risk-dev`` (the governance account and one
team's dev account, each a separate emulator account; ``make rehearse-org`` rehearses all seven).
The other tests assert on the same config's templates what moto's CloudFormation does not create.
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

# Mode organisation: the same checks per account, prefixed "<account>: ", and checks across accounts.
ORG_ACCOUNTS = ("tooling", "risk-dev")
ORG_PER_ACCOUNT = ("cdk bootstrap", "bootstrap trust", "cdk deploy", "stacks in their account", "stacks",
                   "resources created", "VPC without internet", "VPC endpoints", "endpoint security group",
                   "bucket encryption", "KMS keys", "flow logs", "Lambda in VPC", "permission boundaries")
ORG_MUST_PASS = ("cdk synth", "accounts isolated", "cross-account references", "risk-dev: provision products",
                 *(f"{account}: {name}" for account in ORG_ACCOUNTS for name in ORG_PER_ACCOUNT))
ORG_LIMITS = {"delivery pipelines", "cross-account trust evaluation", "SCP attachment",
              "declared projects",  # checked once per run, not per account
              *(f"{account}: {name}" for account in ORG_ACCOUNTS for name in EMULATOR_LIMITS)}

pytestmark = pytest.mark.xdist_group("rehearsal")


def _script() -> ModuleType:
    """scripts/rehearse.py as a module (scripts/ is not a package)."""
    if "rehearse" not in sys.modules:
        spec = importlib.util.spec_from_file_location("rehearse", REHEARSE)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules["rehearse"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules["rehearse"]


def _rehearse(tmp_path_factory: pytest.TempPathFactory, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path_factory.mktemp("rehearsal") / "report.json"
    process = subprocess.Popen([sys.executable, str(REHEARSE), *args, "--report", str(report)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=REHEARSAL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.terminate()  # on SIGTERM the script stops the CDK CLI and the emulator it started
        out, err = process.communicate(timeout=60)
        err += f"\nthe rehearsal did not finish within {REHEARSAL_TIMEOUT_S}s"
    result = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return result, json.loads(report.read_text()) if report.exists() else {}


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    return _rehearse(tmp_path_factory)


@pytest.fixture(scope="module")
def org_rehearsal(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    return _rehearse(tmp_path_factory, "--config", str(REPO / "config" / "default.yaml"),
                     "--accounts", ",".join(ORG_ACCOUNTS[1:]))


def test_rehearsal_deploys_checks_and_destroys(rehearsal) -> None:
    result, report = rehearsal
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert {name: statuses.get(name) for name in MUST_PASS} == {name: "PASS" for name in MUST_PASS}
    assert {name for name, status in statuses.items() if status != "PASS"} <= EMULATOR_LIMITS
    assert "fmops-sandbox-platform" not in report["left_out"], "the network is always rehearsed"
    assert "PASS:" in result.stdout and "emulator: stopped" in result.stdout


def test_organisation_rehearsal_deploys_each_account_with_its_keys(org_rehearsal) -> None:
    """Mode organisation: the governance account and risk-dev as two emulator accounts, each
    bootstrapped, deployed and checked with its own keys, isolated from each other; what the
    emulator cannot show (the pipelines, trust evaluation, SCPs) reported, never passed."""
    result, report = org_rehearsal
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert (report["mode"], report["accounts"]) == ("organisation", list(ORG_ACCOUNTS))
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert {name: statuses.get(name) for name in ORG_MUST_PASS} == {name: "PASS" for name in ORG_MUST_PASS}
    assert {name for name, status in statuses.items() if status != "PASS"} <= ORG_LIMITS
    assert {statuses[name] for name in ("delivery pipelines", "cross-account trust evaluation", "SCP attachment")} \
        == {"NOT REHEARSED"}
    assert {"fmops-risk-pipeline", "fmops-genai-pipeline"} <= set(report["left_out"]), "CodeBuild: not on moto"
    assert not {"fmops-tooling-platform", "fmops-risk-dev-platform"} & set(report["left_out"])
    details = {check["name"]: check["detail"] for check in report["checks"]}
    assert "trust 111111111111, 222222222221" in details["risk-dev: bootstrap trust"]
    assert "trust 111111111111;" in details["tooling: bootstrap trust"]
    assert "fmops-log-archive" not in details["cross-account references"]  # counted, not listed
    assert "risk-dev: 1 buckets" in details["cross-account references"]
    assert "emulator: stopped" in result.stdout


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


def test_unknown_or_misplaced_accounts_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    default, single = str(REPO / "config" / "default.yaml"), str(REPO / "config" / "single-account.yaml")
    assert _script().main(["--config", default, "--accounts", "risk-dev,tooling"]) == 2
    assert "tooling is not a workload account of the config" in capsys.readouterr().err
    assert _script().main(["--config", single, "--accounts", "sandbox"]) == 2
    assert "is mode single-account" in capsys.readouterr().err


def test_accounts_are_rehearsed_governance_first_then_in_pipeline_order() -> None:
    from infra.config import load_config

    config = load_config(REPO / "config" / "default.yaml")
    names = [a.name for a in _script().rehearsed_accounts(config, None)]
    assert names == ["tooling", "risk-dev", "risk-preprod", "risk-prod", "genai-dev", "genai-preprod", "genai-prod"]
    assert [a.name for a in _script().rehearsed_accounts(config, ["genai-prod", "risk-dev"])] == \
        ["tooling", "risk-dev", "genai-prod"]


def test_trusted_accounts_and_governance_names() -> None:
    script = _script()
    role = {"AssumeRolePolicyDocument": {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::222222222221:root", "111111111111"]}},
        {"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}}]}}
    assert script._trusted_accounts(role) == {"111111111111", "222222222221"}
    from infra.config import load_config

    governance = load_config(REPO / "config" / "default.yaml").accounts[0]
    text = json.dumps({"a": "arn:aws:s3:::fmops-log-archive-111111111111-eu-west-1/config/*",
                       "b": "arn:aws:ecr:eu-west-1:111111111111:repository/fmops/tgi-inference",
                       "c": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/fmops/x-serving:1.0",
                       "d": ["111111111111.dkr.ecr.eu-west-1.amazonaws.com/fmops/", {"Ref": "Image"}],
                       "e": "arn:aws:s3:::cdk-hnb659fds-assets-111111111111-eu-west-1"})
    assert script._governance_names(text, governance, "eu-west-1") == {
        "buckets": {"fmops-log-archive-111111111111-eu-west-1"},
        "ECR repositories": {"fmops/tgi-inference", "fmops/x-serving"}}


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


def test_isolation_check_fails_when_an_account_sees_another_accounts_resources() -> None:
    """moto in-process, two accounts by their assumed-role keys: each sees only its own VPC, key and
    bucket, so the check passes; an account claiming the other's VPC makes it fail."""
    from types import SimpleNamespace

    from moto import mock_aws

    script, region = _script(), "eu-west-1"
    template = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC"}, "Key": {"Type": "AWS::KMS::Key"},
                              "Bucket": {"Type": "AWS::S3::Bucket"}}}
    with mock_aws():
        runs = []
        for account_id in ("111111111111", "222222222221"):
            keys = script.account_credentials(None, region, account_id)
            aws = script.Aws(None, region, keys)
            created = {"Vpc": aws.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"],
                       "Key": aws.kms.create_key()["KeyMetadata"]["KeyId"], "Bucket": f"rehearsal-{account_id}"}
            aws.s3.create_bucket(Bucket=created["Bucket"], CreateBucketConfiguration={"LocationConstraint": region})
            deployed = script.Deployed({f"stack-{account_id}": template}, {f"stack-{account_id}": created})
            runs.append(script.AccountRun(SimpleNamespace(name=account_id, id=account_id), keys, aws,
                                          script.Assembly({}, {}), [], deployed))
        assert "2 accounts each see their own and none of the others'" in script.check_isolation(runs)
        runs[1].deployed.physical["stack-222222222221"]["Vpc"] = runs[0].deployed.physical["stack-111111111111"]["Vpc"]
        with pytest.raises(script.Problem, match="111111111111 sees 222222222221's VPCs"):
            script.check_isolation(runs)
