"""SageMaker projects without Service Catalog (``catalog.project_path: project``): the trial config
with its team on the project path, synthesized with every check. The catalog stack publishes each
offered template (URL, version, project role) in SSM and creates no Service Catalog resource; the
project role is generated from the templates' resources like the launch role, evaluated offline:
it may create what the templates create, and nothing CloudFormation would name, no stack, nothing
of another team; launchers may pass that role, to CloudFormation only, and no other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fmops_constructs.launch_role import needed_actions
from infra import naming
from infra.config import load_config
from infra.personas.launchers import end_user_statements
from infra.plan import build_plan
from infra.stacks.catalog import offered_templates
from templates.registry import BY_ID
from tests.conftest import REPO, load_templates, resolve_pseudo, resources, synth
from tests.iam import Node, Policy, local_check_authorization_full

ORG, TEAM, ACCOUNT, REGION = "fmops", "pilot", "123456789012", "eu-west-1"
CATALOG = f"{ORG}-sandbox-{TEAM}-catalog"
ROLE_NAME = naming.project_launch_role_name(ORG, TEAM)
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"


DECLARED = ("      declared_projects:\n"
            "        - {name: churn-model, template: classical-ml, parameters: {EndpointInstanceType: ml.c5.xlarge}}\n")
PROJECTS = f"{ORG}-sandbox-{TEAM}-projects"


def project_path_config(tmp: Path) -> Path:
    text = (REPO / "config" / "single-account.yaml").read_text()
    anchor = "    alarms: {emails: [pilot-oncall@example.com]}\n"
    assert anchor in text
    path = tmp / "project-path.yaml"
    path.write_text(text.replace(anchor, anchor + "    catalog:\n      project_path: project\n" + DECLARED))
    return path


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("project-path")
    config = project_path_config(folder)
    return config, synth(load_config(config), folder / "cdk.out")


@pytest.fixture(scope="module")
def catalog(assembly) -> dict:
    return load_templates(assembly[1])[CATALOG]


def _sub(text: str) -> str:
    return resolve_pseudo({"Fn::Sub": text}, ACCOUNT, REGION)


def _resolve(value):
    return resolve_pseudo(value, ACCOUNT, REGION)


def _role(catalog: dict) -> tuple[str, dict]:
    return next((k, r) for k, r in resources(catalog, "AWS::IAM::Role").items()
                if r["Properties"].get("RoleName") == ROLE_NAME)


def test_templates_are_published_without_service_catalog(assembly, catalog):
    config, out = assembly
    assert not [r for r in catalog["Resources"].values() if r["Type"].startswith("AWS::ServiceCatalog::")]
    role_id, role = _role(catalog)
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}}]
    assert "PermissionsBoundary" in role["Properties"]
    team_plan = next(t for a in build_plan(load_config(config)).accounts for t in a.teams if t.name == TEAM)
    offered = {entry.id for entry in offered_templates(team_plan.team, team_plan.stage)}
    published = {}
    for parameter in resources(catalog, "AWS::SSM::Parameter").values():
        name = parameter["Properties"]["Name"]
        if name.startswith(naming.project_template_parameter(ORG, TEAM) + "/"):
            published[name.rsplit("/", 1)[1]] = json.loads(_resolve(parameter["Properties"]["Value"]))
    assert set(published) == offered and offered
    for template_id, value in published.items():
        assert value["version"] == BY_ID[template_id].version
        assert role_id in value["role"] and "Arn" in value["role"]  # Fn::GetAtt of the project role
        digest = value["url"].removeprefix(f"https://s3.{REGION}.amazonaws.com/cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/")
        assert digest != value["url"] and digest.endswith(".json")
        manifest = json.loads((out / f"{CATALOG}.assets.json").read_text())
        assert manifest["files"][digest.removesuffix(".json")]["source"]["path"].endswith(".product.template.json")


@pytest.fixture(scope="module")
def project_role(catalog, assembly) -> Node:
    role_id, role = _role(catalog)
    policies = [p["Properties"]["PolicyDocument"] for p in resources(catalog, "AWS::IAM::ManagedPolicy").values()
                if {"Ref": role_id} in p["Properties"].get("Roles", [])]
    # Like the Service Catalog launch role, the project role carries the team's launch boundary.
    launch_boundary = naming.launch_boundary_name(ORG, TEAM)
    assert launch_boundary in json.dumps(role["Properties"]["PermissionsBoundary"])
    boundary = next(p["Properties"]["PolicyDocument"] for p in
                    resources(load_templates(assembly[1])[f"{ORG}-sandbox-{TEAM}"], "AWS::IAM::ManagedPolicy").values()
                    if p["Properties"]["ManagedPolicyName"] == launch_boundary)
    return Node(ROLE_ARN, ROLE_NAME, [Policy(ROLE_ARN, f"project-{i}", _resolve(d)) for i, d in enumerate(policies)],
                [], role["Properties"]["AssumeRolePolicyDocument"], None, 0, False, False,
                Policy(ROLE_ARN, "boundary", _resolve(boundary)), False, {})


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{ORG}-{TEAM}-boundary"
CONTEXT = {"aws:RequestTag/fmops:team": TEAM, "aws:ResourceTag/fmops:team": TEAM, "iam:PermissionsBoundary": BOUNDARY,
           "iam:PolicyARN": f"arn:aws:iam::{ACCOUNT}:policy{naming.project_role_path(ORG, TEAM)}x"}


def _allowed(node: Node, action: str, resource: str, context: dict | None = None) -> bool:
    return local_check_authorization_full(node, action, resource, CONTEXT if context is None else context,
                                          None, None, None, None)


def test_project_role_manages_the_alarms_fm_hosting_names_and_no_generated_name(project_role, assembly):
    """The fm-hosting template names its alarms <team>-<project>-*: the project role may create and
    delete those, and no alarm of a name CloudFormation would generate or of another team."""
    [product] = Path(assembly[1]).glob("*ProjectTemplatesFmHosting*.product.template.json")
    alarms = resources(json.loads(product.read_text()), "AWS::CloudWatch::Alarm")
    names = sorted(_resolve(a["Properties"]["AlarmName"]) for a in alarms.values())
    assert names == [f"{TEAM}-${{SageMakerProjectName}}-{metric}" for metric in ("5xx", "invocations", "latency")]
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"):
        assert _allowed(project_role, action, alarm + f"{TEAM}-bot-latency"), action
        for other in (f"SC-{ACCOUNT}-pp-abc-Latency-1", "risk-bot-latency", "SM-p-abc-Latency-1"):
            assert not _allowed(project_role, action, alarm + other), (action, other)


def test_project_role_creates_no_stack_reads_no_product_template_and_reaches_no_other_team(project_role):
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/"
    for action in ("cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack"):
        for name in (f"SC-{ACCOUNT}-pp-abc/1", "anything/1"):
            assert not _allowed(project_role, action, stack + name), (action, name)
    assert not _allowed(project_role, "s3:GetObject", "arn:aws:s3:::any-bucket/template.json",
                        {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"})
    other = {**CONTEXT, "aws:RequestTag/fmops:team": "risk", "aws:ResourceTag/fmops:team": "risk"}
    assert not _allowed(project_role, "sagemaker:CreatePipeline", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/x", other)
    assert not _allowed(project_role, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role{naming.project_role_path(ORG, TEAM)}x",
                        {k: v for k, v in CONTEXT.items() if k != "iam:PermissionsBoundary"})
    assert not _allowed(project_role, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{ORG}-{TEAM}-lead-data-scientist")
    assert _allowed(project_role, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role{naming.project_role_path(ORG, TEAM)}x")


def test_project_role_may_create_every_resource_of_the_templates(project_role, assembly):
    """Every handler action of every resource type of the published templates has a resource the
    project role may act on (a name of the team, its tag, its path)."""
    types = set()
    for product in Path(assembly[1]).glob("*ProjectTemplates*.product.template.json"):
        types |= {r["Type"] for r in json.loads(product.read_text())["Resources"].values()}
    statements = [s for policy in project_role.attached_policies for s in policy.policy_doc["Statement"]]
    granted = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    missing = sorted(a for actions in needed_actions(types).values() for a in actions
                     if a not in granted and not any(g.endswith("*") and a.startswith(g[:-1]) for g in granted))
    assert not missing, missing


def test_launchers_pass_the_project_role_to_cloudformation_only(assembly):
    """Under the team boundary: pass that one role, to CloudFormation; read the parameters and the
    templates (the .json objects of the asset bucket), nothing of another team."""
    config, _ = assembly
    team_plan = next(t for a in build_plan(load_config(config)).accounts for t in a.teams if t.name == TEAM)
    statements = [{**s, "Resource": [_sub(r) for r in s["Resource"]]} for s in end_user_statements(team_plan)]
    arn = f"arn:aws:iam::{ACCOUNT}:role/{ORG}-{TEAM}-lead-data-scientist"
    boundary = next(p["Properties"]["PolicyDocument"] for p in
                    resources(load_templates(assembly[1])[f"{ORG}-sandbox-{TEAM}"], "AWS::IAM::ManagedPolicy").values()
                    if p["Properties"]["ManagedPolicyName"] == f"{ORG}-{TEAM}-boundary")
    launcher = Node(arn, f"{ORG}-{TEAM}-lead-data-scientist",
                    [Policy(arn, "end-user", {"Version": "2012-10-17", "Statement": statements})], [], {}, None, 0,
                    False, False, Policy(arn, "boundary", _resolve(boundary)), False, {})  # the team's boundary too
    passing = {"iam:PassedToService": "cloudformation.amazonaws.com"}
    assert _allowed(launcher, "iam:PassRole", ROLE_ARN, passing)
    assert not _allowed(launcher, "iam:PassRole", ROLE_ARN, {"iam:PassedToService": "lambda.amazonaws.com"})
    for other in (naming.catalog_launch_role_name(ORG, TEAM), naming.project_launch_role_name(ORG, "risk"),
                  f"fmops/projects/{TEAM}/SC-x-Role"):
        assert not _allowed(launcher, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{other}", passing), other
    parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{naming.project_template_parameter(ORG, TEAM)}"
    assert _allowed(launcher, "ssm:GetParametersByPath", parameter)
    assert not _allowed(launcher, "ssm:GetParametersByPath", parameter.replace(f"/{TEAM}/", "/risk/"))
    template = f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/abc.json"
    assert _allowed(launcher, "s3:GetObject", template)
    assert not _allowed(launcher, "s3:GetObject", template.replace(".json", ".zip"))  # code assets stay unreadable


def test_declared_project_runs_the_template_url_with_the_project_role(assembly, catalog):
    """A config-declared project on the project path: AWS::SageMaker::Project with a template
    provider, the team's project role and the template's S3 URL, read (dynamic reference) from
    the parameter the catalog stack writes with the same CDK asset URL as the project template's."""
    from infra.stacks.catalog.projects import project_logical_id

    projects = load_templates(assembly[1])[PROJECTS]
    project = projects["Resources"][project_logical_id("churn-model")]
    assert project["Type"] == "AWS::SageMaker::Project"
    assert project["DeletionPolicy"] == project["UpdateReplacePolicy"] == "Retain"
    assert "ServiceCatalogProvisioningDetails" not in project["Properties"]
    [provider] = project["Properties"]["TemplateProviderDetails"]
    detail = provider["CfnTemplateProviderDetail"]
    assert _resolve(detail["RoleARN"]) == ROLE_ARN and detail["TemplateName"] == "classical-ml"
    assert detail["Parameters"] == [{"Key": "SageMakerProjectName", "Value": "churn-model"},
                                    {"Key": "EndpointInstanceType", "Value": "ml.c5.xlarge"}]
    name = naming.declared_project_parameter(ORG, TEAM, "classical-ml", "template-url")
    assert detail["TemplateURL"] == "{{resolve:ssm:" + name + "}}"
    written = {p["Properties"]["Name"]: p["Properties"]["Value"] for p in resources(catalog, "AWS::SSM::Parameter").values()}
    published = json.loads(_resolve(written[naming.project_template_parameter(ORG, TEAM, "classical-ml")]))
    assert _resolve(written[name]) == published["url"]
    assert {"Key": "fmops:team", "Value": TEAM} in project["Properties"]["Tags"]


def test_verifier_refuses_a_declared_project_template_from_elsewhere(assembly):
    """IF-CFN-UNCHECKED-TEMPLATE: a project's template URL must be a CDK asset of the cloud
    assembly, or a parameter that a stack of the assembly writes with one."""
    from infra.assembly import read_stacks
    from infra.compliance.internet_free.runner import check_template
    from infra.stacks.catalog.projects import project_logical_id

    stack = next(s for s in read_stacks(assembly[1]) if s.name == PROJECTS)
    template = json.loads(stack.template_file.read_text())

    def findings(url: str) -> list[str]:
        detail = template["Resources"][project_logical_id("churn-model")]["Properties"]["TemplateProviderDetails"][0]
        detail["CfnTemplateProviderDetail"]["TemplateURL"] = url
        return [f.message for f in check_template(template, str(stack.template_file))
                if f.rule_id == "IF-CFN-UNCHECKED-TEMPLATE"]

    own = "{{resolve:ssm:" + naming.declared_project_parameter(ORG, TEAM, "classical-ml", "template-url") + "}}"
    assert findings(own) == []
    assert findings(f"https://s3.{REGION}.amazonaws.com/cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/{'a' * 64}.json") == []
    assert findings("https://example.com/template.json")
    assert findings("{{resolve:ssm:/elsewhere/url}}")
    # The seed parameter exists but holds no template URL.
    assert findings("{{resolve:ssm:" + naming.project_template_parameter(ORG, TEAM, "classical-ml") + "}}")
