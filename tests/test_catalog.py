"""Self-service project templates: the registry, every product's gates, the catalog stacks and the
launch role, evaluated offline.

Per product (registry entry): it synthesizes alone with every compliance gate (three cdk-nag
packs, the internet-free pack, cost tags), its template is internet-free, its SageMaker
pipeline steps are valid API requests (botocore's service model), the roles it creates stay
under the team's permission boundary, and the portfolio's launch role is allowed every action
CloudFormation needs for its resources and refused what the team must never do (the project's IAM evaluator's
local IAM engine, with the synthesized policies, boundary and SCPs).
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Environment, Stack, Tags
from aws_cdk import aws_servicecatalog as servicecatalog

from fmops_constructs.launch_role import GENERATED, GENERATED_BUCKETS, NEVER, SCOPES, UNSCOPED_READS, needed_actions, split_statements
from fmops_constructs.product import PROJECT_ID_PATTERN, PROJECT_NAME_PATTERN
from infra import personas
from infra.personas import classification
from infra.naming import STUDIO_VISIBILITY_TAG, catalog_parameter_prefix, log_prefix, project_role_path
from infra.app.builder import new_app
from infra.naming import studio_role_name
from infra.plan import build_plan
from infra.plan.launchers import launcher_personas
from infra.stacks.catalog import offered_templates, template_props
from infra.compliance.checks import add_compliance_checks
from infra.compliance.internet_free import check_template
from infra.compliance.internet_free.organisation import Organisation
from infra.config import ConfigError, Stage, load_config
from templates.registry import BY_ID, REGISTRY, TEMPLATES_DIR
from tests.conftest import REPO, load_templates, product_templates as _product_templates, resolve_pseudo, resources, synth


from tests.iam import Node, Policy, local_check_authorization_full  # noqa: E402

pytestmark = pytest.mark.xdist_group("catalog")

ORG, TEAM, ACCOUNT, REGION = "fmops", "genai", "333333333331", "eu-west-1"
INSIDE = Organisation.of(load_config(REPO / "config" / "default.yaml"))  # the internet-free perimeters' inside
CATALOG = f"{ORG}-genai-dev-{TEAM}-catalog"
IDS = [entry.id for entry in REGISTRY]


# -- helpers ------------------------------------------------------------------------------------

def _sub(text: str, extra: dict[str, str] | None = None) -> str:
    values = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com",
              **(extra or {})}
    return re.sub(r"\$\{([^}]+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def _resolve(value: Any) -> Any:
    """A synthesized policy with its pseudo parameters filled in."""
    return resolve_pseudo(value, ACCOUNT, REGION)


@pytest.fixture(scope="module")
def catalog_templates(default_templates) -> dict[str, dict]:
    return {name: t for name, t in default_templates.items() if name.endswith("-catalog")}


@pytest.fixture(scope="module")
def products(default_assembly) -> dict[str, dict]:
    """Every template as published in team genai's dev account (it is offered all six)."""
    return _product_templates(default_assembly, CATALOG)


# -- the registry ---------------------------------------------------------------------------------

def test_every_registry_entry_has_its_folder_readme_and_seed_code():
    for entry in REGISTRY:
        assert entry.folder.is_dir(), entry.id
        readme = entry.folder / "README.md"
        assert readme.is_file() and entry.name in readme.read_text(), entry.id
        seeds = [p for p in entry.seed.rglob("*") if p.is_file()]
        assert seeds, f"{entry.id} has no seed code"
        for script in (p for p in seeds if p.suffix == ".py"):
            compile(script.read_text(), str(script), "exec")
        assert entry.product_stack.__module__ == f"templates.{entry.folder.name}.product", entry.id
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry.version), entry.id


def test_every_template_folder_is_in_the_registry():
    folders = {p.name for p in TEMPLATES_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert folders == {entry.folder.name for entry in REGISTRY}
    assert len(BY_ID) == len(REGISTRY) >= 6


# -- each product alone, with every gate --------------------------------------------------------

@pytest.mark.parametrize("template_id", IDS)
def test_product_synthesizes_alone_with_every_gate(template_id, tmp_path):
    """The product in a catalog stack of its own: the three cdk-nag packs, the internet-free pack
    and the cost-tag check run at synth and fail it on any finding."""
    config = load_config(REPO / "config" / "default.yaml")
    team = next(t for account in build_plan(config).accounts for t in account.teams if t.name == TEAM)
    app = new_app(outdir=str(tmp_path))
    parent = Stack(app, "Catalog", env=Environment(account=ACCOUNT, region=REGION))
    entry = BY_ID[template_id]
    product = entry.product_stack(parent, "Product", props=template_props(team, entry), description=entry.name)
    servicecatalog.CloudFormationProduct(
        parent, "Published", product_name=entry.name, owner="test",
        product_versions=[servicecatalog.CloudFormationProductVersion(
            product_version_name=entry.version,
            cloud_formation_template=servicecatalog.CloudFormationTemplate.from_product_stack(product))])
    for tag, value in (("fmops:organisation", ORG), ("fmops:team", TEAM), ("fmops:cost-centre", "CC-2001")):
        Tags.of(app).add(tag, value)
    add_compliance_checks(app, INSIDE)
    app.synth()
    [path] = tmp_path.glob("*.product.template.json")
    template = json.loads(path.read_text())
    assert not check_template(template, path.name, INSIDE)
    parameters = template["Parameters"]
    assert parameters["SageMakerProjectName"]["AllowedPattern"] == PROJECT_NAME_PATTERN
    assert parameters["SageMakerProjectId"]["AllowedPattern"] == PROJECT_ID_PATTERN


@pytest.mark.parametrize("template_id", IDS)
def test_published_product_is_internet_free_and_launchable_from_studio(template_id, products, catalog_templates):
    template = products[template_id]
    assert not check_template(template, template_id, INSIDE)
    assert {"SageMakerProjectName", "SageMakerProjectId"} <= set(template["Parameters"])
    required = [k for k, p in template["Parameters"].items() if "Default" not in p]
    # SageMaker Studio passes only these two: every other parameter a template needs at launch
    # is a choice the user makes (fm-hosting's model and weights, a connection's repository).
    assert set(required) - {"SageMakerProjectName", "SageMakerProjectId"} <= {"Model", "WeightsFolder", "RepositoryId"}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            assert resource["Properties"]["Path"] == project_role_path(ORG, TEAM)
            assert "PermissionsBoundary" in resource["Properties"]


# -- SageMaker pipeline definitions are valid API requests --------------------------------------

SAMPLES = {"SageMakerProjectName": "demo", "PlatformSeedBucket": "seeds", "PlatformSeedKey": "seed.zip"}


def _sample(part: dict) -> str:
    """A plausible deploy-time value for a part of the definition's Fn::Join."""
    if "Fn::Join" in part:  # a List<String> parameter: the subnets
        return "subnet-0123456789abcdef0"
    if "Fn::GetAtt" in part:
        return f"arn:aws:iam::{ACCOUNT}:role/{ORG}/projects/{TEAM}/SC-{ACCOUNT}-pp-abc-Role-XYZ"
    if "Fn::Sub" in part:
        return _sub(part["Fn::Sub"], SAMPLES)
    if "Fn::If" in part:  # an image: the AWS-provided default (no custom image tag given)
        default = part["Fn::If"][2]
        return default if isinstance(default, str) else _sample(default)
    name = part["Ref"]
    if name.endswith("Arn"):
        return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return "sg-0123456789abcdef0" if "SecurityGroup" in name else SAMPLES.get(name, "1")


def _definition(template: dict) -> dict:
    pipeline = next(iter(resources(template, "AWS::SageMaker::Pipeline").values()))
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return json.loads("".join(p if isinstance(p, str) else _sample(p) for p in parts))


def _placeholders(value: Any) -> Any:
    """Pipeline expressions ({"Get": ...}, {"Std:Join": ...}) replaced by a string."""
    if isinstance(value, dict):
        if value.keys() & {"Get", "Std:Join", "Std:JsonGet"}:
            return "s3://bucket/placeholder"
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _steps(steps: list[dict]) -> list[dict]:
    found = []
    for step in steps:
        found.append(step)
        found += _steps(step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get("ElseSteps", []))
    return found


@pytest.mark.parametrize("template_id", ["fm-finetuning", "fm-evaluation", "classical-ml"])
def test_pipeline_steps_are_valid_sagemaker_requests(template_id, products):
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("sagemaker")
    operations = {"Processing": ("CreateProcessingJob", "ProcessingJobName"),
                  "Training": ("CreateTrainingJob", "TrainingJobName"), "RegisterModel": ("CreateModelPackage", None)}
    definition = _definition(products[template_id])
    assert definition["Version"] == "2020-12-01"
    checked = 0
    for step in _steps(definition["Steps"]):
        if step["Type"] not in operations:
            continue
        operation, name = operations[step["Type"]]
        request = _placeholders(step["Arguments"]) | ({name: "step"} if name else {})
        report = ParamValidator().validate(request, model.operation_model(operation).input_shape)
        assert not report.has_errors(), (step["Name"], report.generate_report())
        if step["Type"] in ("Processing", "Training"):
            assert request.get("NetworkConfig", request).get("VpcConfig"), step["Name"]
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("template_id", ["fm-finetuning", "classical-ml"])
def test_registry_templates_register_pending_approval_and_forward_nothing(template_id, products):
    """The gate is a person's approval of a package registered PendingManualApproval, tagged with the
    team (the approve-model ABAC condition); the product sends nothing to another account (the
    team's catalog stacks promote approved models, see tests/test_promotion.py)."""
    template = products[template_id]
    [group] = resources(template, "AWS::SageMaker::ModelPackageGroup").values()
    assert group["Properties"]["ModelPackageGroupName"] == {"Fn::Sub": f"{TEAM}-${{SageMakerProjectName}}"}
    definition = _definition(template)
    [register] = [s for s in _steps(definition["Steps"]) if s["Type"] == "RegisterModel"]
    assert register["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert "ModelApprovalStatus" not in {p["Name"] for p in definition["Parameters"]}, \
        "a run cannot register an approved model and skip the gate"
    assert {"Key": "fmops:team", "Value": TEAM} in register["Arguments"]["Tags"]
    assert not resources(template, "AWS::SNS::Topic"), "decisions go to the team's topic, no topic of the project"
    for rule in resources(template, "AWS::Events::Rule").values():
        assert [t["Arn"] for t in rule["Properties"]["Targets"]] == [{"Ref": "PlatformAlarmTopicArn"}], \
            "only the team's topic (its subscribers)"
    assert "PlatformPromotionAccount" not in template["Parameters"]
    assert not [r for r in resources(template, "AWS::IAM::Role").values()
                if "events.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])]
    assert BY_ID[template_id].version == "1.3.0"


def test_classical_ml_endpoint_may_deploy_a_package_promoted_from_the_previous_stage(products):
    template = products["classical-ml"]
    [role_id] = [k for k, r in resources(template, "AWS::IAM::Role").items()
                 if "sagemaker.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
                 and k.startswith("Serving")]
    statements = [_resolve(s) for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                  if {"Ref": role_id} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]
    reads = next(s for s in statements if s["Action"] == "s3:GetObject")
    assert f"arn:aws:s3:::{ORG}-{TEAM}-models-{ACCOUNT}-{REGION}/incoming/*" in reads["Resource"]
    describe = next(s for s in statements if s["Action"] == "sagemaker:DescribeModelPackage")
    assert describe["Resource"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{TEAM}-*/*"


# -- the roles products create stay under the team's boundary ------------------------------------

@pytest.mark.parametrize("template_id", IDS)
def test_product_roles_fit_under_the_team_boundary(template_id, products):
    """Every action a product's role is granted is in the team boundary's ceiling: classified
    allow or conditional (infra/personas/actions), not the launch role's alone."""
    permitted = {a.lower() for a in classification.permitted_actions("team")}
    universe = {f"{s}:{a}".lower() for s, e in classification.load_classification().items() for a in e.actions}
    for resource in products[template_id]["Resources"].values():
        if resource["Type"] not in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow":
                matched = {a: {u for u in universe if fnmatch.fnmatchcase(u, a.lower())} for a in actions}
                outside = [a for a, found in matched.items() if not found or found - permitted]
                assert not outside, (template_id, outside)


# -- the catalog stacks -------------------------------------------------------------------------

def test_a_portfolio_per_team_and_workload_account(default_templates):
    config = load_config(REPO / "config" / "default.yaml")
    for team in config.teams:
        for stage, account in team.accounts.by_stage().items():
            template = default_templates[f"{ORG}-{account}-{team.name}-catalog"]
            [portfolio] = resources(template, "AWS::ServiceCatalog::Portfolio").values()
            assert team.name in portfolio["Properties"]["DisplayName"]
            names = {p["Properties"]["Name"] for p in
                     resources(template, "AWS::ServiceCatalog::CloudFormationProduct").values()}
            offered = offered_templates(team, stage)
            assert names == {entry.name for entry in offered}, (team.name, stage)
            assert (BY_ID["fm-finetuning"] in offered) == (stage is Stage.DEV)


LAUNCHERS = ("lead-data-scientist", "fine-tuner", "genai-developer")


def test_portfolio_is_shared_with_launcher_personas_only(catalog_templates):
    """The launchers' persona roles (by ARN) and their Studio execution roles (by the account-less
    IAM_PATTERN ARN): nobody else, never a data scientist; and, where the team declares projects in
    the config (genai in the default config), the CDK CloudFormation execution role that creates
    them (tests/test_declared_projects.py)."""
    expected = ({("IAM", f"arn:aws:iam::{ACCOUNT}:role/{ORG}-{TEAM}-{p}") for p in LAUNCHERS}
                | {("IAM_PATTERN", f"arn:aws:iam:::role/{ORG}-{TEAM}-{p}-studio") for p in LAUNCHERS}
                | {("IAM", f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}")})
    associations = resources(catalog_templates[CATALOG], "AWS::ServiceCatalog::PortfolioPrincipalAssociation")
    assert {(a["Properties"]["PrincipalType"], a["Properties"]["PrincipalARN"]) for a in associations.values()} == expected
    config = load_config(REPO / "config" / "default.yaml")
    assert "data-scientist" not in launcher_personas(config.teams[0])


# -- Studio: the launchers' execution roles see and launch the team's products -----------------

def _studio_roles(template: dict) -> dict[str, tuple[str, dict]]:
    """User profile name -> (logical id, properties) of its execution role."""
    found = {}
    for profile in resources(template, "AWS::SageMaker::UserProfile").values():
        role_id = profile["Properties"]["UserSettings"]["ExecutionRole"]["Fn::GetAtt"][0]
        found[profile["Properties"]["UserProfileName"]] = (role_id, template["Resources"][role_id]["Properties"])
    return found


def test_studio_launchers_are_associated_by_the_names_the_studio_stack_gives_their_roles(default_templates):
    """In every account, the IAM_PATTERN principals of a team's portfolio are exactly the execution
    roles of its launchers' Studio profiles, named without a reference to the Studio stack."""
    config = load_config(REPO / "config" / "default.yaml")
    checked = 0
    for account in config.accounts:
        studio = default_templates.get(f"{ORG}-{account.name}-studio")
        for team in (t for t in config.teams_in(account) if studio and "studio" in t.features
                     and "service-catalog" in t.features):
            catalog = default_templates[f"{ORG}-{account.name}-{team.name}-catalog"]
            patterns = {a["Properties"]["PrincipalARN"] for a in
                        resources(catalog, "AWS::ServiceCatalog::PortfolioPrincipalAssociation").values()
                        if a["Properties"]["PrincipalType"] == "IAM_PATTERN"}
            roles = {name: props["RoleName"] for name, (_, props) in _studio_roles(studio).items()}
            assert patterns == {f"arn:aws:iam:::role/{roles[f'{team.name}-{p}']}" for p in launcher_personas(team)}
            assert all(re.fullmatch(r"arn:aws:iam:::role/[\w+=,.@-]{1,64}", p) for p in patterns)
            assert f"{ORG}-{account.name}-studio" not in json.dumps(catalog), "no reference to the Studio stack"
            checked += 1
    assert checked == 6


def test_only_the_launchers_studio_roles_get_the_project_launch_policy(default_templates):
    template = default_templates[f"{ORG}-genai-dev-studio"]
    roles = {role_id: name for name, (role_id, _) in _studio_roles(template).items()}
    launching = {roles[r["Ref"]] for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
                 if "ProjectLaunch" in k for r in p["Properties"]["Roles"]}
    assert launching == {f"{TEAM}-{p}" for p in LAUNCHERS}


def _strings(value: Any) -> Any:
    """A resolved policy whose remaining intrinsics (attributes, imports) become plain strings."""
    value = _resolve(value)
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("Fn::"):
            return "arn:aws:unresolved:::x"
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    return value


@pytest.fixture(scope="module")
def studio_roles(default_templates) -> dict[str, Node]:
    """persona -> the execution role of genai's Studio profile in genai-dev, with every policy
    attached to it and the team's boundary."""
    template = default_templates[f"{ORG}-genai-dev-studio"]
    boundary = next(p["Properties"]["PolicyDocument"] for p in
                    resources(default_templates[f"{ORG}-genai-dev-{TEAM}"], "AWS::IAM::ManagedPolicy").values()
                    if p["Properties"]["ManagedPolicyName"] == f"{ORG}-{TEAM}-boundary")
    nodes = {}
    for name, (role_id, role) in _studio_roles(template).items():
        if not name.startswith(f"{TEAM}-"):
            continue
        arn = f"arn:aws:iam::{ACCOUNT}:role/{role['RoleName']}"
        policies = [Policy(arn, k, _strings(p["Properties"]["PolicyDocument"]))
                    for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
                    if {"Ref": role_id} in p["Properties"].get("Roles", [])]
        nodes[name.removeprefix(f"{TEAM}-")] = Node(arn, role["RoleName"], policies, [],
                                                    role["AssumeRolePolicyDocument"], None, 0, False, False,
                                                    Policy(arn, "boundary", _resolve(boundary)), False,
                                                    {"fmops:team": TEAM})
    return nodes


def test_a_launchers_studio_role_may_provision_the_teams_products_a_data_scientists_may_not(studio_roles):
    product = f"arn:aws:catalog:{REGION}:{ACCOUNT}:product/prod-abcdefghijklm"
    project = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:project/support-bot"
    team_product = {"aws:ResourceTag/fmops:team": TEAM}
    for persona in LAUNCHERS:
        node = studio_roles[persona]
        for action in ("servicecatalog:ProvisionProduct", "servicecatalog:DescribeProduct",
                       "servicecatalog:ListLaunchPaths", "servicecatalog:DescribeProvisioningParameters"):
            assert _allowed(node, action, product, team_product), (persona, action)
        assert _allowed(node, "servicecatalog:SearchProducts", "*", {})
        assert _allowed(node, "sagemaker:CreateProject", project, {"aws:RequestTag/fmops:team": TEAM})
        assert not _allowed(node, "sagemaker:CreateProject", project, {}), "projects carry the team tag"
        assert not _allowed(node, "servicecatalog:ProvisionProduct", product, {"aws:ResourceTag/fmops:team": "risk"})
        assert not _allowed(node, "servicecatalog:ProvisionProduct",
                            f"arn:aws:catalog:{REGION}:222222222221:product/prod-abcdefghijklm", team_product)
        assert not _allowed(node, "sagemaker:DeleteProject", project, {"aws:ResourceTag/fmops:team": "risk"})
    for persona in ("data-scientist", "ml-engineer", "prompt-engineer", "data-engineer"):
        node = studio_roles[persona]
        assert not _allowed(node, "servicecatalog:ProvisionProduct", product, team_product), persona
        assert not _allowed(node, "sagemaker:CreateProject", project, {"aws:RequestTag/fmops:team": TEAM}), persona
        assert not _allowed(node, "servicecatalog:SearchProducts", "*", {}), persona


def test_studio_role_names_are_deterministic_and_fit_iam():
    assert studio_role_name("fmops", "genai", "lead-data-scientist") == "fmops-genai-lead-data-scientist-studio"
    long = studio_role_name("a" * 20, "b" * 20, "lead-data-scientist")
    assert len(long) == 64 and long == studio_role_name("a" * 20, "b" * 20, "lead-data-scientist")
    assert long != studio_role_name("a" * 20, "b" * 19 + "c", "lead-data-scientist")


def test_products_are_versioned_visible_in_studio_and_launched_with_the_local_role(catalog_templates):
    template = catalog_templates[CATALOG]
    for product in resources(template, "AWS::ServiceCatalog::CloudFormationProduct").values():
        props = product["Properties"]
        tags = {t["Key"]: t["Value"] for t in props["Tags"]}
        assert tags[STUDIO_VISIBILITY_TAG[0]] == STUDIO_VISIBILITY_TAG[1]
        assert [a["Name"] for a in props["ProvisioningArtifactParameters"]] == [BY_ID[tags["fmops:template"]].version]
    constraints = resources(template, "AWS::ServiceCatalog::LaunchRoleConstraint")
    assert len(constraints) == len(resources(template, "AWS::ServiceCatalog::CloudFormationProduct"))
    launch_role = next(r for r in template["Resources"] if r.startswith("LaunchRole") and
                       template["Resources"][r]["Type"] == "AWS::IAM::Role")
    assert all(c["Properties"]["LocalRoleName"] == {"Ref": launch_role} for c in constraints.values())


def test_tag_options_for_team_cost_centre_and_project(catalog_templates):
    options = resources(catalog_templates[CATALOG], "AWS::ServiceCatalog::TagOption")
    assert {(o["Properties"]["Key"], o["Properties"]["Value"]) for o in options.values()} == {
        ("fmops:team", TEAM), ("fmops:cost-centre", "CC-2001"), ("fmops:project", "support-assistant"),
        ("fmops:project", "document-search")}
    risk = resources(catalog_templates[f"{ORG}-risk-dev-risk-catalog"], "AWS::ServiceCatalog::TagOption")
    assert ("fmops:project", "risk") in {(o["Properties"]["Key"], o["Properties"]["Value"]) for o in risk.values()}
    assert len(resources(catalog_templates[CATALOG], "AWS::ServiceCatalog::TagOptionAssociation")) == len(options)


def test_launch_role_carries_the_boundary_and_no_admin_grant(catalog_templates):
    for name, template in catalog_templates.items():
        role = next(r for r in resources(template, "AWS::IAM::Role").values()
                    if r["Properties"].get("RoleName", "").endswith("-catalog-launch"))
        assert role["Properties"]["PermissionsBoundary"].endswith("-boundary")
        assert "ManagedPolicyArns" not in role["Properties"] or all(
            "arn:aws:iam::aws:policy" not in json.dumps(a) for a in role["Properties"]["ManagedPolicyArns"])
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not ("*" in actions and statement.get("Resource") in ("*", ["*"])), name
                assert not any(a.endswith(":*") for a in actions), (name, actions)


def test_catalog_stacks_stay_small(catalog_templates):
    for name, template in catalog_templates.items():
        assert len(template["Resources"]) < 100, name


def test_split_statements_respects_the_managed_policy_limit():
    statements = [{"Effect": "Allow", "Action": [f"s3:GetObject{i}"], "Resource": ["x" * 200]} for i in range(80)]
    groups = split_statements(statements)
    assert len(groups) > 1 and sum(len(g) for g in groups) == 80
    assert all(len(json.dumps({"Version": "2012-10-17", "Statement": g}, separators=(",", ":"))) <= 6000
               for g in groups)


def test_team_boundaries_fit_the_managed_policy_limit(default_templates):
    for name, template in default_templates.items():
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
            if policy["Properties"].get("ManagedPolicyName", "").endswith("-boundary"):
                size = len(json.dumps(_resolve(policy["Properties"]["PolicyDocument"]), separators=(",", ":")))
                assert size <= 6144, (name, size)


# -- the launch role, evaluated offline ---------------------------------------------------------

@pytest.fixture(scope="module")
def launch_role(catalog_templates, default_templates) -> Node:
    template = catalog_templates[CATALOG]
    role_id, role = next((k, r) for k, r in resources(template, "AWS::IAM::Role").items()
                         if r["Properties"].get("RoleName") == f"{ORG}-{TEAM}-catalog-launch")
    policies = [p["Properties"]["PolicyDocument"] for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                if {"Ref": role_id} in p["Properties"].get("Roles", [])]
    boundary = next(p["Properties"]["PolicyDocument"] for p in
                    resources(default_templates[f"{ORG}-genai-dev-{TEAM}"], "AWS::IAM::ManagedPolicy").values()
                    if p["Properties"]["ManagedPolicyName"] == f"{ORG}-{TEAM}-launch-boundary")
    arn = f"arn:aws:iam::{ACCOUNT}:role/{role['Properties']['RoleName']}"
    return Node(arn, role["Properties"]["RoleName"],
                [Policy(arn, f"launch-{i}", _resolve(d)) for i, d in enumerate(policies)], [],
                role["Properties"]["AssumeRolePolicyDocument"], None, 0, False, False,
                Policy(arn, "boundary", _resolve(boundary)), False, {})


BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{ORG}-{TEAM}-boundary"
PROJECT_ROLE = f"arn:aws:iam::{ACCOUNT}:role{project_role_path(ORG, TEAM)}SC-{ACCOUNT}-pp-abc-Role-XYZ"
PROJECT_POLICY = f"arn:aws:iam::{ACCOUNT}:policy{project_role_path(ORG, TEAM)}SC-{ACCOUNT}-pp-abc-Policy-XYZ"
CONTEXT = {
    "aws:RequestTag/fmops:team": TEAM, "aws:ResourceTag/fmops:team": TEAM, "iam:PermissionsBoundary": BOUNDARY_ARN,
    "kms:GrantIsForAWSResource": "true", "iam:PolicyARN": PROJECT_POLICY,
    "iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com",
    "sagemaker:VpcSubnets": ["subnet-0123456789abcdef0"], "sagemaker:VpcSecurityGroupIds": ["sg-0123456789abcdef0"],
    "sagemaker:VolumeKmsKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "s3:ExistingObjectTag/servicecatalog:provisioning": "true",
}


def _scps() -> list[list[Policy]]:
    full = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    documents = personas.scp_documents(["arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0"])
    return [[Policy("arn:aws:organizations::scp/full", "FullAWSAccess", full)]
            + [Policy(f"arn:aws:organizations::scp/{n}", n, d) for n, d in documents.items()]]


def _sample_resource(action: str) -> str:
    """A resource the action would act on for the team's project."""
    service = action.split(":")[0]
    if any(fnmatch.fnmatchcase(action, pattern) for pattern in UNSCOPED_READS):
        return "*"
    if service == "iam":
        if "ServiceLinkedRole" in action:
            return f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/x"
        return PROJECT_POLICY if "Polic" in action and "Role" not in action else PROJECT_ROLE
    pattern = SCOPES[service].resources[0]
    filled = (pattern.replace("{team}", TEAM).replace("{log_group_prefix}", log_prefix(ORG, TEAM))
              .replace("{parameter_prefix}", catalog_parameter_prefix(ORG, TEAM)).replace("{connection}", "")
              .replace("{generated_buckets}", GENERATED_BUCKETS).replace("{generated}", GENERATED))
    return _sub(filled).replace("*", f"{TEAM}-demo")


def _allowed(node: Node, action: str, resource: str, context: dict | None = None) -> bool:
    return local_check_authorization_full(node, action, resource, CONTEXT if context is None else context,
                                          None, None, _scps(), None)


@pytest.mark.parametrize("template_id", IDS)
def test_launch_role_may_create_every_resource_of_the_product(template_id, products, launch_role):
    types = {r["Type"] for r in products[template_id]["Resources"].values()}
    refused = [(action, _sample_resource(action)) for actions in needed_actions(types).values()
               for action in sorted(actions) if not _allowed(launch_role, action, _sample_resource(action))]
    assert not refused, refused
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/SC-{ACCOUNT}-pp-abcdefghijklm/1234"
    assert _allowed(launch_role, "cloudformation:CreateStack", stack)
    assert _allowed(launch_role, "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{ORG}/catalog/{TEAM}/vpc-id")


def test_launch_role_creates_the_projects_inference_profile_only_with_the_team_tag(launch_role):
    """CreateInferenceProfile is authorized on the new profile and on what it copies (a system
    cross-Region profile or a foundation model); only with the team tag; deleting needs the tag."""
    profile = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/abc123"
    copied = [f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/eu.amazon.nova-pro-v1:0",
              f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-pro-v1:0",
              "arn:aws:bedrock:eu-central-1::foundation-model/amazon.nova-pro-v1:0"]
    tagged = {**CONTEXT, "aws:RequestTag/fmops:team": TEAM}
    for resource in (profile, *copied):
        assert _allowed(launch_role, "bedrock:CreateInferenceProfile", resource, tagged), resource
        assert not _allowed(launch_role, "bedrock:CreateInferenceProfile", resource,
                            {**CONTEXT, "aws:RequestTag/fmops:team": "otherteam"}), resource
    assert _allowed(launch_role, "bedrock:DeleteInferenceProfile", profile, {**CONTEXT, "aws:ResourceTag/fmops:team": TEAM})
    assert not _allowed(launch_role, "bedrock:DeleteInferenceProfile", profile,
                        {**CONTEXT, "aws:ResourceTag/fmops:team": "otherteam"})


def test_launch_role_cannot_create_a_role_without_the_boundary(launch_role):
    context = {k: v for k, v in CONTEXT.items() if k != "iam:PermissionsBoundary"}
    assert _allowed(launch_role, "iam:CreateRole", PROJECT_ROLE)
    assert not _allowed(launch_role, "iam:CreateRole", PROJECT_ROLE, context)
    assert not _allowed(launch_role, "iam:CreateRole", PROJECT_ROLE,
                        {**context, "iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert not _allowed(launch_role, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/{ORG}-{TEAM}-admin")


def test_launch_role_cannot_escalate_or_reach_other_teams(launch_role):
    admin = {**CONTEXT, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert not _allowed(launch_role, "iam:AttachRolePolicy", PROJECT_ROLE, admin)
    persona = f"arn:aws:iam::{ACCOUNT}:role/{ORG}-{TEAM}-lead-data-scientist"
    for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole"):
        assert not _allowed(launch_role, action, persona), action
    assert not _allowed(launch_role, "iam:DeleteRolePermissionsBoundary", PROJECT_ROLE)
    assert not _allowed(launch_role, "iam:CreatePolicyVersion", BOUNDARY_ARN)
    assert not _allowed(launch_role, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x")
    assert not _allowed(launch_role, "lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:risk-x")
    other = {**CONTEXT, "aws:RequestTag/fmops:team": "risk", "aws:ResourceTag/fmops:team": "risk"}
    assert not _allowed(launch_role, "sagemaker:CreatePipeline", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/x", other)
    assert not _allowed(launch_role, "ec2:CreateInternetGateway", "*")
    assert not _allowed(launch_role, "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{ORG}/catalog/risk/x")


def test_never_list_names_real_patterns():
    assert all(":" in pattern and reason for pattern, reason in NEVER.items())


# -- sources and the governance share -----------------------------------------------------------

@pytest.fixture(scope="module")
def variant_templates(tmp_path_factory) -> dict[str, dict]:
    """Risk on CodeCommit; genai on a CodeConnections connection, its portfolio published in the
    governance account and accepted in its workload accounts."""
    text = (REPO / "config" / "default.yaml").read_text()
    text = text.replace("  - name: risk\n    cost_centre: CC-1001\n", "  - name: risk\n    cost_centre: CC-1001\n"
                        "    catalog:\n      projects: [credit-scoring, fraud]\n      source: {kind: codecommit}\n")
    genai = "    catalog:\n      projects: [support-assistant, document-search]\n"
    assert genai in text
    # A shared portfolio's products are the governance account's: no config-declared project.
    declared = text[text.index("      # A SageMaker project CloudFormation"):text.index("          template: genai-app\n")]
    text = text.replace(declared + "          template: genai-app\n", "")
    text = text.replace(genai, genai + "      share_from_governance: true\n      governance_portfolio_id: port-abcdefghij123\n"
                        "      source:\n        kind: codeconnections\n        connection_arn: arn:aws:codeconnections:"
                        "eu-west-1:111111111111:connection/0c7b1f0e-6f3b-4c6e-9a71-2b8d4f5e6a7c\n"
                        "        accepted_because: Self-managed GitLab reached through a CodeConnections VPC host\n")
    folder = tmp_path_factory.mktemp("catalog-variants")
    (folder / "variants.yaml").write_text(text)
    config = load_config(folder / "variants.yaml")
    assembly = synth(config, folder / "out")
    return {"templates": load_templates(assembly), "assembly": assembly,  # type: ignore[dict-item]
            "organisation": Organisation.of(config)}


def test_codecommit_projects_get_a_seeded_repository_and_a_code_pipeline(variant_templates):
    products = _product_templates(variant_templates["assembly"], f"{ORG}-risk-dev-risk-catalog")
    template = products["fm-finetuning"]
    [repository] = resources(template, "AWS::CodeCommit::Repository").values()
    assert repository["Properties"]["Code"]["S3"]["Key"] == {"Ref": "PlatformSeedKey"}
    [pipeline] = resources(template, "AWS::CodePipeline::Pipeline").values()
    providers = [a["ActionTypeId"]["Provider"] for s in pipeline["Properties"]["Stages"] for a in s["Actions"]]
    assert providers == ["CodeCommit", "S3"]
    assert not check_template(template, "fm-finetuning", variant_templates["organisation"])


def test_codeconnections_projects_record_why_the_host_is_accepted(variant_templates):
    products = _product_templates(variant_templates["assembly"], f"{ORG}-tooling-genai-catalog")
    [pipeline] = resources(products["classical-ml"], "AWS::CodePipeline::Pipeline").values()
    assert "Self-managed GitLab" in pipeline["Metadata"]["fmops:external-code-source"]["accepted_because"]
    assert "RepositoryId" in products["classical-ml"]["Parameters"]
    assert not resources(products["classical-ml"], "AWS::CodeStarConnections::Connection")


def test_governance_portfolio_is_shared_with_the_teams_accounts(variant_templates):
    templates = variant_templates["templates"]
    hub = templates[f"{ORG}-tooling-genai-catalog"]
    shares = {s["Properties"]["AccountId"] for s in resources(hub, "AWS::ServiceCatalog::PortfolioShare").values()}
    assert shares == {"333333333331", "333333333332", "333333333333"}
    assert all(s["Properties"]["ShareTagOptions"] for s in resources(hub, "AWS::ServiceCatalog::PortfolioShare").values())
    workload = templates[f"{ORG}-genai-dev-genai-catalog"]
    assert not resources(workload, "AWS::ServiceCatalog::CloudFormationProduct")
    [accepted] = resources(workload, "AWS::ServiceCatalog::AcceptedPortfolioShare").values()
    assert accepted["Properties"]["PortfolioId"] == "port-abcdefghij123"
    for association in resources(workload, "AWS::ServiceCatalog::PortfolioPrincipalAssociation").values():
        assert association["DependsOn"]
    assert any(r["Properties"].get("RoleName") == f"{ORG}-genai-catalog-launch"
               for r in resources(workload, "AWS::IAM::Role").values())


@pytest.mark.parametrize(("edit", "message"), [
    ("    catalog: {source: {kind: codeconnections}}\n", "kind codeconnections needs connection_arn"),
    ("    catalog:\n      source: {kind: s3, connection_arn: arn:aws:codeconnections:eu-west-1:111111111111:connection/"
     "0c7b1f0e-6f3b-4c6e-9a71-2b8d4f5e6a7c}\n", "connection_arn is only used with kind codeconnections"),
    ("    catalog:\n      source: {kind: codeconnections, accepted_because: a self-managed host in the VPC, "
     "connection_arn: arn:aws:codeconnections:us-east-1:111111111111:connection/0c7b1f0e-6f3b-4c6e-9a71-2b8d4f5e6a7c}\n",
     "CodePipeline uses connections of its own Region"),
    ("    catalog: {governance_portfolio_id: port-abcdefghij123}\n", "needs share_from_governance: true"),
    ("    catalog: {projects: [a1, a1]}\n", "projects has duplicates"),
])
def test_catalog_config_errors_are_located(tmp_path, edit, message):
    text = (REPO / "config" / "default.yaml").read_text().replace(
        "  - name: risk\n    cost_centre: CC-1001\n", "  - name: risk\n    cost_centre: CC-1001\n" + edit)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert re.search(r"bad\.yaml:\d+: teams\[0\]\(name=risk\)\.catalog", str(caught.value))


def test_catalog_settings_need_the_service_catalog_feature(tmp_path):
    text = (REPO / "config" / "single-account.yaml").read_text().replace(
        "features: [studio, pipelines, hosting, bedrock, service-catalog, mlflow, data-lake]",
        "features: [studio, pipelines, hosting, bedrock, mlflow, data-lake]\n    catalog: {projects: [demo]}")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="catalog settings need feature service-catalog"):
        load_config(path)


def test_sharing_from_governance_needs_an_organisation(tmp_path):
    text = (REPO / "config" / "single-account.yaml").read_text().replace(
        "features: [studio, pipelines, hosting, bedrock, service-catalog, mlflow, data-lake]",
        "features: [studio, pipelines, hosting, bedrock, service-catalog, mlflow, data-lake]\n    catalog: {share_from_governance: true}")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="share_from_governance needs mode organisation"):
        load_config(path)


def test_product_templates_are_usable_as_s3_based_sagemaker_projects(catalog_templates):
    """The catalog's TemplateUrl outputs make a valid CreateProject request (TemplateProviders)."""
    import botocore.session
    from botocore.validate import ParamValidator

    template = catalog_templates[CATALOG]
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateProject").input_shape
    role = f"arn:aws:iam::{ACCOUNT}:role/{ORG}-{TEAM}-catalog-launch"
    for entry in REGISTRY:
        output = template["Outputs"][f"{''.join(p.capitalize() for p in entry.id.split('-'))}TemplateUrl"]
        url = _resolve(output["Value"])
        assert url.startswith("https://s3.eu-west-1.amazonaws.com/cdk-") and url.endswith(".json")
        request = {"ProjectName": "support-bot", "TemplateProviders": [{"CfnTemplateProvider": {
            "TemplateName": entry.id, "TemplateURL": url, "RoleARN": role,
            "Parameters": [{"Key": "SageMakerProjectName", "Value": "support-bot"}]}}]}
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()


def test_labeling_workforce_portal_is_in_the_vpc_and_labelers_are_invited(default_templates, products):
    stack = default_templates[f"{ORG}-genai-dev-labeling"]
    [workforce] = resources(stack, "AWS::SageMaker::Workforce").values()
    vpc = workforce["Properties"]["WorkforceVpcConfig"]
    assert vpc["VpcId"] and vpc["Subnets"] and vpc["SecurityGroupIds"]
    assert "SourceIpConfig" not in workforce["Properties"]
    [pool] = resources(stack, "AWS::Cognito::UserPool").values()
    assert pool["Properties"]["MfaConfiguration"] == "ON"
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["DeletionPolicy"] == "Retain"
    [client] = resources(stack, "AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["GenerateSecret"] is True
    assert client["Properties"]["AllowedOAuthFlows"] == ["code"]
    [domain] = resources(stack, "AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == f"{ORG}-{ACCOUNT}-labelers"
    [workteam] = resources(products["data-labeling"], "AWS::SageMaker::Workteam").values()
    member = workteam["Properties"]["MemberDefinitions"][0]["CognitoMemberDefinition"]
    assert member["CognitoUserPool"] == {"Ref": "PlatformLabelingUserPoolId"}
    assert resources(products["data-labeling"], "AWS::Cognito::UserPoolGroup")


def test_every_product_is_in_the_portfolio(catalog_templates):
    template = catalog_templates[CATALOG]
    associations = resources(template, "AWS::ServiceCatalog::PortfolioProductAssociation")
    assert len(associations) == len(resources(template, "AWS::ServiceCatalog::CloudFormationProduct")) == 6
