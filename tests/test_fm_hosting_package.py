"""fm-hosting serving an approved model package of the team's registry, as an alternative to staged
weights: one product template, two modes chosen by CloudFormation conditions.

The published template (team genai's dev portfolio, synthesized with every compliance gate: the
three cdk-nag packs and the internet-free pack fail the synth on any finding, and
tests/test_catalog.py synthesizes the product alone with every gate) is evaluated here for each
mode the way CloudFormation would (conditions, Fn::If, AWS::NoValue, Fn::Select/Split/Join/Sub):
the model it creates, the endpoint guarantees both modes keep, the template rule that asks for
exactly one model source, and the execution role's grants, checked against the keys the training
pipeline and the promotion really write and evaluated offline with the team boundary
(the project's IAM evaluator, infra.compliance.iam_eval). The launch role's rights for the package mode's resources come last.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from fmops_constructs.fm_endpoint import OFFLINE_ENVIRONMENT
from fmops_constructs.model_promotion import RUNTIME
from fmops_constructs.sagemaker_images import ecr_parts
from infra.compliance.internet_free import check_template
from infra.compliance.internet_free.organisation import Organisation
from infra.config import load_config
from infra.naming import promoted_models_bucket_name
from templates.fm_hosting.product import model_package_name_pattern
from fmops_constructs.sagemaker_images import TGI_SERVING
from templates.registry import BY_ID
from tests.conftest import resources
from tests.test_catalog import (ACCOUNT, CATALOG, CONTEXT, ORG, PROJECT_POLICY, PROJECT_ROLE, REGION, TEAM,
                                _allowed, _definition, _product_templates, catalog_templates, launch_role)


from tests.iam import Node, Policy, local_check_authorization_full  # noqa: E402

pytestmark = pytest.mark.xdist_group("catalog")
_ = (catalog_templates, launch_role)  # fixtures of tests/test_catalog.py used here

PACKAGE = f"{TEAM}-support-bot/3"
TEAM_BUCKET = f"{ORG}-{TEAM}-data-{ACCOUNT}-{REGION}"
PROMOTED_BUCKET = promoted_models_bucket_name(ORG, TEAM, ACCOUNT, REGION)
PROJECT_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-1111-1111-1111-111111111111"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/22222222-2222-2222-2222-222222222222"
PLATFORM = {"PlatformVpcId": "vpc-0123456789abcdef0", "PlatformSubnetIds": "subnet-0123456789abcdef0",
            "PlatformProjectKeyArn": PROJECT_KEY, "PlatformDataKeyArn": DATA_KEY}
STAGED = {"SageMakerProjectName": "chat", "SageMakerProjectId": "p-abc", "Model": "tii-falcon-7b-instruct",
          "WeightsFolder": "falcon-7b-instruct/base", **PLATFORM}
FROM_PACKAGE = {**STAGED, "WeightsFolder": "", "ModelPackageName": PACKAGE}


# -- CloudFormation, evaluated for one set of parameter values ------------------------------------

NO_VALUE = object()


class Deployment:
    """What CloudFormation makes of ``template`` with ``values``: the conditions, the resources that
    exist and their properties with every intrinsic function resolved (resources and their
    attributes become ``<LogicalId>`` / ``<LogicalId.Attribute>``)."""

    def __init__(self, template: dict, values: dict[str, str]) -> None:
        self.template = template
        self.parameters: dict[str, Any] = {}
        for key, spec in template["Parameters"].items():
            value = values.get(key, spec.get("Default", f"<{key}>"))
            self.parameters[key] = value.split(",") if "List<" in spec["Type"] else str(value)
        self.pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                       "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": f"SC-{ACCOUNT}-pp-abcdefghijklm"}
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self._conditions[name]

    def rule_holds(self, name: str) -> bool:
        rule = self.template["Rules"][name]
        if "RuleCondition" in rule and not self.value(rule["RuleCondition"]):
            return True
        return all(self.value(a["Assert"]) for a in rule["Assertions"])

    @property
    def resources(self) -> dict[str, dict]:
        return {key: self.value(resource) for key, resource in self.template["Resources"].items()
                if "Condition" not in resource or self.condition(resource["Condition"])}

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.value(variables[name]))
            return str(self.value({"Ref": name}) if "." not in name else f"<{name}>")
        return re.sub(r"\$\{([^}!][^}]*)\}", fill, text)

    def value(self, node: Any) -> Any:  # noqa: PLR0911, PLR0912
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (function, argument), = node.items()
            if function == "Ref":
                if argument == "AWS::NoValue":
                    return NO_VALUE
                if argument in self.pseudo:
                    return self.pseudo[argument]
                return self.parameters.get(argument, f"<{argument}>")
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::If":
                name, when_true, when_false = argument
                return self.value(when_true if self.condition(name) else when_false)
            if function == "Fn::Equals":
                left, right = (self.value(a) for a in argument)
                return left == right
            if function == "Fn::Not":
                return not self.value(argument[0])
            if function == "Fn::And":
                return all(self.value(a) for a in argument)
            if function == "Fn::Or":
                return any(self.value(a) for a in argument)
            if function == "Fn::Contains":
                return self.value(argument[1]) in self.value(argument[0])
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, variables)
            if function == "Fn::Join":
                return argument[0].join(str(self.value(part)) for part in argument[1])
            if function == "Fn::Select":
                return self.value(argument[1])[int(argument[0])]
            if function == "Fn::Split":
                return str(self.value(argument[1])).split(argument[0])
            if function == "Fn::GetAtt":
                return f"<{'.'.join(argument) if isinstance(argument, list) else argument}>"
            if function == "Fn::GetAZs":
                return [f"{REGION}a"]
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}


@pytest.fixture(scope="module")
def hosting(default_assembly) -> dict:
    """The fm-hosting product as published in team genai's dev portfolio."""
    return _product_templates(default_assembly, CATALOG)["fm-hosting"]


@pytest.fixture(scope="module")
def modes(hosting) -> dict[str, Deployment]:
    return {"staged": Deployment(hosting, STAGED), "package": Deployment(hosting, FROM_PACKAGE)}


def _one(deployment: Deployment, resource_type: str) -> dict:
    [resource] = deployment.of_type(resource_type).values()
    return resource["Properties"]


def _role_statements(deployment: Deployment) -> tuple[list[str], list[dict]]:
    """The endpoint execution role's managed policy ids and every statement it gets."""
    [(role_id, role)] = [(k, r) for k, r in deployment.of_type("AWS::IAM::Role").items()
                         if k.startswith("EndpointExecutionRole")]
    managed = [arn.strip("<>") for arn in role["Properties"].get("ManagedPolicyArns", [])]
    documents = [r["Properties"]["PolicyDocument"] for k, r in deployment.resources.items()
                 if k in managed or (r["Type"] == "AWS::IAM::Policy" and f"<{role_id}>" in r["Properties"]["Roles"])]
    return managed, [s for d in documents for s in d["Statement"]]


def _grants(statements: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            found.setdefault(action, []).extend(targets)
    return found


# -- one template, two modes ----------------------------------------------------------------------

def test_the_product_version_is_bumped_and_tagged(hosting):
    assert BY_ID["fm-hosting"].version == "1.3.0"
    tags = {t["Key"]: t["Value"] for r in hosting["Resources"].values()
            for t in r.get("Properties", {}).get("Tags", []) if isinstance(t, dict)}
    assert tags["fmops:template-version"] == "1.3.0"


def test_package_mode_serves_the_package_in_the_vpc_with_network_isolation(modes):
    model = _one(modes["package"], "AWS::SageMaker::Model")
    assert model["PrimaryContainer"] == {"ModelPackageName": PACKAGE, "Environment": OFFLINE_ENVIRONMENT}
    assert "Containers" not in model
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"]["Subnets"] == [PLATFORM["PlatformSubnetIds"]]
    assert model["VpcConfig"]["SecurityGroupIds"] == ["<EndpointSecurityGroup3A4D971B.GroupId>"]
    assert "ServedModelPackage" in modes["package"].template["Outputs"]


def test_staged_mode_is_unchanged(modes):
    model = _one(modes["staged"], "AWS::SageMaker::Model")
    container = model["PrimaryContainer"]
    assert "ModelPackageName" not in container
    assert container["Image"] == TGI_SERVING.uri(REGION), "the AWS-provided image by default: nothing to push"
    assert container["Mode"] == "SingleModel" and container["Environment"] == OFFLINE_ENVIRONMENT
    assert container["ModelDataSource"] == {"S3DataSource": {
        "S3Uri": f"s3://{TEAM_BUCKET}/models/falcon-7b-instruct/base/", "S3DataType": "S3Prefix",
        "CompressionType": "None"}}
    assert model["EnableNetworkIsolation"] is True and model["VpcConfig"]["Subnets"]


@pytest.mark.parametrize("mode", ["staged", "package"])
def test_both_modes_keep_the_endpoint_guarantees(modes, mode):
    """KMS, data capture, the catalog instance type, autoscaling, alarms, the log group: the same
    resources in both modes, and the effective template is internet-free."""
    deployment = modes[mode]
    config = _one(deployment, "AWS::SageMaker::EndpointConfig")
    assert config["KmsKeyId"] == PROJECT_KEY
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and capture["KmsKeyId"] == PROJECT_KEY
    assert capture["DestinationS3Uri"] == f"s3://{TEAM_BUCKET}/projects/chat/data-capture/"
    [variant] = config["ProductionVariants"]
    assert variant["InstanceType"] == deployment.parameters["InstanceType"]  # a catalog type, checked by its rules
    assert variant["ModelName"] == "<EndpointModel0F230181.ModelName>"
    endpoint = _one(deployment, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == f"{TEAM}-chat"
    assert _one(deployment, "AWS::ApplicationAutoScaling::ScalableTarget")["MaxCapacity"] == "2"  # MaxInstances
    assert len(deployment.of_type("AWS::CloudWatch::Alarm")) == 3
    types = {r["Type"] for r in deployment.resources.values()}
    other = modes["package" if mode == "staged" else "staged"]
    assert types == {r["Type"] for r in other.resources.values()}
    effective = {**deployment.template, "Conditions": {}, "Resources": deployment.resources}
    assert not check_template(effective, f"fm-hosting ({mode})", Organisation.of(load_config()))  # default_assembly: the default config


def test_package_mode_is_a_valid_create_model_request(modes):
    service = botocore.session.get_session().get_service_model("sagemaker")
    model = _one(modes["package"], "AWS::SageMaker::Model")
    request = {"ModelName": "genai-chat-model", "ExecutionRoleArn": PROJECT_ROLE, **{
        k: model[k] for k in ("PrimaryContainer", "VpcConfig", "EnableNetworkIsolation")}}
    report = ParamValidator().validate(request, service.operation_model("CreateModel").input_shape)
    assert not report.has_errors(), report.generate_report()
    name = service.shape_for("ContainerDefinition").members["ModelPackageName"]
    assert re.fullmatch(name.metadata["pattern"], PACKAGE) and len(PACKAGE) <= name.metadata["max"]


@pytest.mark.parametrize(("weights", "package", "holds"), [
    ("falcon-7b-instruct/base", "", True),
    ("", PACKAGE, True),
    ("", "", False),
    ("falcon-7b-instruct/base", PACKAGE, False),
])
def test_a_rule_asks_for_exactly_one_model_source(hosting, weights, package, holds):
    deployment = Deployment(hosting, {**STAGED, "WeightsFolder": weights, "ModelPackageName": package})
    assert deployment.rule_holds("OneModelSource") is holds


@pytest.mark.parametrize(("name", "admitted"), [
    (PACKAGE, True),
    (f"{TEAM}-bot/12", True),
    (f"{TEAM}-my-{TEAM}-bot/1", True),
    ("", True),
    ("other-bot/3", False),  # another team's group
    (f"{TEAM}bot/3", False),
    (f"{TEAM}-bot", False),  # unversioned
    (f"{TEAM}-bot/0", False),
    (f"{TEAM}--bot/3", False),
    (f"{TEAM}-bot-/3", False),
    (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{TEAM}-bot/3", False),  # a name: this account only
    (f"{TEAM}-bot/3/x", False),
])
def test_the_parameter_admits_only_versioned_packages_of_the_teams_groups(hosting, name, admitted):
    parameter = hosting["Parameters"]["ModelPackageName"]
    assert parameter["AllowedPattern"] == model_package_name_pattern(f"{TEAM}-")
    assert bool(re.fullmatch(parameter["AllowedPattern"], name)) is admitted
    assert parameter["Default"] == "" and hosting["Parameters"]["WeightsFolder"]["Default"] == ""


# -- the execution role reads exactly one model ---------------------------------------------------

def test_package_mode_grants_exactly_the_packages_artifacts(modes):
    managed, statements = _role_statements(modes["package"])
    assert managed == ["ModelPackageAccess8CB48151"]
    assert "StagedWeightsAccessCC562CFA" not in modes["package"].resources
    grants = _grants(statements)
    assert grants["sagemaker:DescribeModelPackage"] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{PACKAGE}"]
    assert grants["s3:GetObject"] == [
        f"arn:aws:s3:::{TEAM_BUCKET}/projects/support-bot/runs/*/model.tar.gz",
        f"arn:aws:s3:::{PROMOTED_BUCKET}/incoming/*/{TEAM}-support-bot/*/model.tar.gz"]
    assert "s3:ListBucket" not in grants
    assert grants["kms:Decrypt"] == [PROJECT_KEY], "the project key only (the team bucket's key is not needed)"
    assert grants["s3:PutObject"] == [f"arn:aws:s3:::{TEAM_BUCKET}/projects/chat/data-capture/*"]
    account, _, repository = ecr_parts(TGI_SERVING.uri(REGION))
    assert sorted(grants["ecr:BatchGetImage"]) == sorted([
        f"arn:aws:ecr:{REGION}:{account}:repository/{repository}",
        f"arn:aws:ecr:{REGION}:111111111111:repository/{ORG}/fm-hosting-serving",
        f"arn:aws:ecr:{REGION}:111111111111:repository/{ORG}/fm-finetuning-serving"]), \
        "the AWS-provided serving image and the mirror's custom serving images, no wildcard"


def test_staged_mode_grants_exactly_the_weights_folder(modes):
    managed, statements = _role_statements(modes["staged"])
    assert managed == ["StagedWeightsAccessCC562CFA"]
    grants = _grants(statements)
    assert "sagemaker:DescribeModelPackage" not in grants
    assert grants["s3:GetObject"] == [f"arn:aws:s3:::{TEAM_BUCKET}/models/falcon-7b-instruct/base/*"]
    assert grants["s3:ListBucket"] == [f"arn:aws:s3:::{TEAM_BUCKET}"]
    assert sorted(grants["kms:Decrypt"]) == sorted([PROJECT_KEY, DATA_KEY])


def test_a_project_named_like_the_team_is_still_found(hosting):
    package = f"{TEAM}-my-{TEAM}-bot/7"
    _, statements = _role_statements(Deployment(hosting, {**FROM_PACKAGE, "ModelPackageName": package}))
    assert _grants(statements)["s3:GetObject"][0] == f"arn:aws:s3:::{TEAM_BUCKET}/projects/my-{TEAM}-bot/runs/*/model.tar.gz"


def test_the_role_waits_for_the_policy_of_its_model_source(hosting):
    """The model and endpoint wait for the role, and the role attaches the policy by reference, so
    the artifacts are readable before SageMaker creates the model or starts the endpoint."""
    role = next(r for k, r in hosting["Resources"].items() if k.startswith("EndpointExecutionRole")
                and r["Type"] == "AWS::IAM::Role")
    assert role["Properties"]["ManagedPolicyArns"] == [{"Fn::If": [
        "FromModelPackage", {"Ref": "ModelPackageAccess8CB48151"}, {"Ref": "StagedWeightsAccessCC562CFA"}]}]
    assert hosting["Resources"]["ModelPackageAccess8CB48151"]["Condition"] == "FromModelPackage"
    assert hosting["Resources"]["StagedWeightsAccessCC562CFA"]["Condition"] == "FromStagedWeights"
    for key in ("EndpointModel0F230181", "Endpoint8024A810"):
        assert "EndpointExecutionRole626EC5D8" in hosting["Resources"][key]["DependsOn"]


def _training_output(default_assembly) -> str:
    """Where the fm-finetuning pipeline of project support-bot writes its model, as an S3 key."""
    finetuning = _product_templates(default_assembly, CATALOG)["fm-finetuning"]
    definition = json.dumps(_definition(finetuning))
    step = next(s for s in json.loads(definition)["Steps"] if s["Name"] == "FineTune")
    parts = step["Arguments"]["OutputDataConfig"]["S3OutputPath"]["Std:Join"]["Values"]
    prefix = "/".join(p if isinstance(p, str) else "exec-1" for p in parts)
    prefix = prefix.replace("/projects/demo/", "/projects/support-bot/")
    return f"{prefix}/pipelines-abc-FineTune-xyz/output/model.tar.gz".split(f"s3://{TEAM_BUCKET}/", 1)[1]


def _promoted_key(source_account: str, version: int) -> str:
    """The key the previous stage's promotion writes for a package of group genai-support-bot."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("promotion_for_hosting", RUNTIME / "promotion.py")
    promotion = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(promotion)  # type: ignore[union-attr]
    copies: list[str] = []

    class S3:
        def head_object(self, **_: Any) -> dict:
            return {"ContentLength": 1024}

        def copy_object(self, **kwargs: Any) -> dict:
            copies.append(kwargs["Key"])
            return {}

        def put_object(self, **_: Any) -> dict:
            return {}

    source_bucket = f"{ORG}-{TEAM}-data-{source_account}-{REGION}"

    class SageMaker:
        def describe_model_package(self, **_: Any) -> dict:
            return {"ModelApprovalStatus": "Approved", "ModelPackageGroupName": f"{TEAM}-support-bot",
                    "ModelPackageVersion": version, "InferenceSpecification": {"Containers": [{
                        "Image": "img", "ModelDataUrl": f"s3://{source_bucket}/projects/support-bot/runs/e/FineTune/j/"
                                                        "output/model.tar.gz"}]}}

    promotion.Promoter(sagemaker=SageMaker(), s3=S3(), settings={
        "TEAM": TEAM, "ACCOUNT": source_account, "TARGET_ACCOUNT": ACCOUNT, "TARGET_BUCKET": PROMOTED_BUCKET,
        "SOURCE_BUCKETS": source_bucket}).promote({"detail": {"ModelPackageArn": "arn"}})
    [key] = copies
    return key


def _execution_role(deployment: Deployment, default_templates) -> Node:
    _, statements = _role_statements(deployment)
    boundary = next(p["Properties"]["PolicyDocument"] for p in
                    resources(default_templates[f"{ORG}-genai-dev-{TEAM}"], "AWS::IAM::ManagedPolicy").values()
                    if p["Properties"]["ManagedPolicyName"] == f"{ORG}-{TEAM}-boundary")
    arn = f"arn:aws:iam::{ACCOUNT}:role/{ORG}/projects/{TEAM}/SC-{ACCOUNT}-pp-abc-EndpointExecutionRole"
    return Node(arn, "execution", [Policy(arn, "grants", {"Version": "2012-10-17", "Statement": statements})], [],
                {}, None, 0, False, False, Policy(arn, "boundary", Deployment(deployment.template, {}).value(boundary)),
                False, {})


def test_the_role_reads_the_artifacts_the_pipeline_and_the_promotion_write_and_nothing_else(
        modes, default_assembly, default_templates):
    """The grants against the real key layouts: the dev project's training output, and the copies
    the previous stage's promotion writes (whose version is the source registry's, here 5 while
    this registry's is 3), evaluated with the team boundary."""
    node = _execution_role(modes["package"], default_templates)

    def reads(bucket: str, key: str) -> bool:
        return local_check_authorization_full(node, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", {},
                                              None, None, None, None)

    trained = _training_output(default_assembly)
    assert trained.startswith("projects/support-bot/runs/exec-1/FineTune/")
    promoted = _promoted_key("333333333330", 5)
    assert promoted == f"incoming/333333333330/{TEAM}-support-bot/5/model.tar.gz"
    assert reads(TEAM_BUCKET, trained)
    assert reads(PROMOTED_BUCKET, promoted)
    refused = [
        (TEAM_BUCKET, trained.replace("support-bot", "other-bot")),  # another project's runs
        (TEAM_BUCKET, trained.replace("model.tar.gz", "evaluation.json")),
        (TEAM_BUCKET, "models/falcon-7b-instruct/base/model.safetensors"),  # staged weights
        (TEAM_BUCKET, "data/fine-tuning/train.jsonl"),
        (PROMOTED_BUCKET, promoted.replace(f"{TEAM}-support-bot", f"{TEAM}-support-bot-v2")),
        (PROMOTED_BUCKET, promoted.replace("model.tar.gz", "manifest.json")),
        (f"{ORG}-other-models-{ACCOUNT}-{REGION}", promoted),
    ]
    assert not [r for r in refused if reads(*r)], refused
    describe = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{PACKAGE}"
    assert local_check_authorization_full(node, "sagemaker:DescribeModelPackage", describe, {}, None, None, None, None)
    assert not local_check_authorization_full(node, "sagemaker:DescribeModelPackage", describe.replace("/3", "/4"),
                                              {}, None, None, None, None)
    assert not local_check_authorization_full(node, "sagemaker:UpdateModelPackage", describe, {},
                                              None, None, None, None), "the endpoint cannot approve anything"
    staged = _execution_role(modes["staged"], default_templates)
    assert not local_check_authorization_full(staged, "s3:GetObject", f"arn:aws:s3:::{PROMOTED_BUCKET}/{promoted}",
                                              {}, None, None, None, None)


# -- the launch role ------------------------------------------------------------------------------

def test_the_launch_role_may_create_the_package_modes_resources(launch_role):
    """What CloudFormation calls for the package mode: the conditional managed policy under the
    project path, attached to the execution role, the model (tagged with the team) naming the
    package, with the role passed. If SageMaker also authorizes CreateModel against the package,
    the same statement covers it (resource ``model-package/...`` of this account)."""
    assert _allowed(launch_role, "iam:CreatePolicy", PROJECT_POLICY)
    assert _allowed(launch_role, "iam:AttachRolePolicy", PROJECT_ROLE)
    assert _allowed(launch_role, "iam:PassRole", PROJECT_ROLE)
    model = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/sc-{ACCOUNT}-pp-abc-endpointmodel"
    for resource in (model, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{PACKAGE}"):
        assert _allowed(launch_role, "sagemaker:CreateModel", resource)
        untagged = {k: v for k, v in CONTEXT.items() if k != "aws:RequestTag/fmops:team"}
        assert not _allowed(launch_role, "sagemaker:CreateModel", resource, untagged)
    other_policy = {**CONTEXT, "iam:PolicyARN": f"arn:aws:iam::{ACCOUNT}:policy/{ORG}-{TEAM}-admin"}
    assert not _allowed(launch_role, "iam:AttachRolePolicy", PROJECT_ROLE, other_policy)
    assert not _allowed(launch_role, "sagemaker:UpdateModelPackage",
                        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{PACKAGE}",
                        {**CONTEXT, "sagemaker:ModelApprovalStatus": "Approved"}), "launching never approves"
    assert fnmatch.fnmatchcase(PROJECT_POLICY, f"arn:aws:iam::{ACCOUNT}:policy/{ORG}/projects/{TEAM}/*")
