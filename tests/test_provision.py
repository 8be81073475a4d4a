"""`fmops provision` and `fmops projects` against botocore's Stubber (SageMaker projects and
Service Catalog provisioning, which moto does not implement: the Stubber validates every request
and response against the service model) and moto (STS, and DescribeProduct, which it
implements). Both paths create a SageMaker project: from the team's Service Catalog product
(``--via catalog``) or from the template URL and project role its catalog stack publishes in SSM
(``--via project``)."""

from __future__ import annotations

import datetime
import io
import json
import re

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from rich.console import Console

from infra import cli
from infra.tools.provision import (EXIT_FAILED, EXIT_INPUT, EXIT_OK, Product, ProvisionError, Provisioner, check_parameters,
                             choose_tags)
from tests.conftest import REPO

REGION = "eu-west-1"
PRODUCT = {"ProductId": "prod-abcdefghijklm", "Name": "FM hosting", "ShortDescription": "A model on an endpoint",
           "Id": "prodview-abcdefghijklm", "Owner": "fmops platform team", "Type": "CLOUD_FORMATION_TEMPLATE"}
ARTIFACTS = [{"Id": "pa-old0000000001", "Name": "0.9.0", "CreatedTime": datetime.datetime(2026, 1, 1)},
             {"Id": "pa-new0000000002", "Name": "1.0.0", "CreatedTime": datetime.datetime(2026, 6, 1)}]
PATH = {"Id": "lpv3-abcdefghijklm", "Name": "fmops genai projects (genai-dev)", "ConstraintSummaries": [],
        "Tags": []}
TAG_OPTIONS = [{"Key": "fmops:team", "Values": ["genai"]}, {"Key": "fmops:cost-centre", "Values": ["CC-2001"]},
               {"Key": "fmops:project", "Values": ["assistant", "search"]}]


def _client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def clients(aws):
    """The Provisioner on stubbed clients: (provisioner, stubs by service)."""
    services = {name: _client(name) for name in ("servicecatalog", "cloudformation", "sagemaker", "ssm")}
    stubbers = {name: Stubber(client) for name, client in services.items()}
    for stubber in stubbers.values():
        stubber.activate()
    provisioner = Provisioner(services["servicecatalog"], services["cloudformation"], _client("sts"),
                              sagemaker=services["sagemaker"], ssm=services["ssm"], poll_seconds=0,
                              sleep=lambda _: None)
    yield provisioner, stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


@pytest.fixture
def stubs(clients):
    provisioner, stubbers = clients
    return provisioner, stubbers["servicecatalog"], stubbers["cloudformation"]


PROJECT_ID = "p-abcdefghijkl"
PROJECT_ARN = f"arn:aws:sagemaker:{REGION}:333333333331:project/support-bot"


def _sent(client, operation: str) -> dict:
    """What the client sends for ``operation`` (filled in when it is called)."""
    sent: dict = {}
    client.meta.events.register(f"provide-client-params.{client.meta.service_model.service_name}.{operation}",
                                lambda params, **_: sent.update(params))
    return sent


def _console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None)


def _text(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined]


def _command(name: str, argv: list[str], provisioner: Provisioner, console: Console) -> int:
    """``fmops NAME ARGV...`` as the CLI parses it, with the stubbed clients and a captured console."""
    args = cli.parse_args([name, *argv])
    return args.run(args, provisioner=provisioner, console=console)


def main_provision(argv: list[str], provisioner: Provisioner, console: Console) -> int:
    return _command("provision", argv, provisioner, console)


def main_projects(argv: list[str], provisioner: Provisioner, console: Console) -> int:
    return _command("projects", argv, provisioner, console)


def _parameters_of(template: dict) -> list[dict]:
    """A product template's parameters as DescribeProvisioningParameters returns them."""
    found = []
    for key, spec in template["Parameters"].items():
        constraints = {k: spec[k] for k in ("AllowedValues", "AllowedPattern", "ConstraintDescription") if k in spec}
        entry = {"ParameterKey": key, "ParameterType": spec["Type"], "IsNoEcho": False,
                 "Description": spec.get("Description", ""), "ParameterConstraints": constraints}
        if "Default" in spec:
            entry["DefaultValue"] = str(spec["Default"])
        found.append(entry)
    return found


@pytest.fixture(scope="module")
def hosting_parameters(default_assembly) -> list[dict]:
    """The parameters of the fm-hosting product as synthesized for team genai's dev account."""
    [path] = default_assembly.glob("**/*fmopsgenaidevgenaicatalogCatalogFmHosting*.product.template.json")  # a stage
    return _parameters_of(json.loads(path.read_text()))


def _expect_resolution(stub: Stubber, parameters: list[dict]) -> None:
    stub.add_response("search_products", {"ProductViewSummaries": [PRODUCT]}, {})
    stub.add_response("describe_product", {"ProductViewSummary": PRODUCT, "ProvisioningArtifacts": ARTIFACTS},
                      {"Id": PRODUCT["ProductId"]})
    stub.add_response("list_launch_paths", {"LaunchPathSummaries": [PATH]}, {"ProductId": PRODUCT["ProductId"]})
    stub.add_response("describe_provisioning_parameters",
                      {"ProvisioningArtifactParameters": parameters, "TagOptions": TAG_OPTIONS},
                      {"ProductId": PRODUCT["ProductId"], "ProvisioningArtifactId": "pa-new0000000002",
                       "PathId": PATH["Id"]})


def _project_states(sagemaker: Stubber, *states: str, **final: object) -> None:
    for index, state in enumerate(states):
        extra = final if index == len(states) - 1 else {}
        sagemaker.add_response("describe_project", {
            "ProjectArn": PROJECT_ARN, "ProjectName": "support-bot", "ProjectId": PROJECT_ID,
            "ProjectStatus": state, "CreationTime": datetime.datetime(2026, 6, 1), **extra},
            {"ProjectName": "support-bot"})


def test_catalog_path_creates_a_sagemaker_project_from_the_product(clients, hosting_parameters):
    """--via catalog: CreateProject with the product, the checked parameters and the TagOptions;
    SageMaker, not the command, names the project's id."""
    provisioner, stubbers = clients
    catalog, sagemaker = stubbers["servicecatalog"], stubbers["sagemaker"]
    _expect_resolution(catalog, hosting_parameters)
    sent = _sent(provisioner.sagemaker, "CreateProject")
    sagemaker.add_response("create_project", {"ProjectArn": PROJECT_ARN, "ProjectId": PROJECT_ID})
    _project_states(sagemaker, "Pending", "CreateInProgress", "CreateCompleted",
                    ServiceCatalogProvisionedProductDetails={"ProvisionedProductId": "pp-abcdefghijklm"})
    catalog.add_response("get_provisioned_product_outputs", {"Outputs": [
        {"OutputKey": "EndpointName", "OutputValue": "genai-support-bot"}]},
        {"ProvisionedProductId": "pp-abcdefghijklm"})
    console = _console()
    code = main_provision(["fm-hosting", "--name", "support-bot", "--param", "Model=tii-falcon-7b-instruct",
                           "--param", "WeightsFolder=falcon-7b-instruct/base", "--project-tag", "assistant"],
                          provisioner, console)
    assert code == EXIT_OK, _text(console)
    assert "genai-support-bot" in _text(console)
    assert sent["ProjectName"] == "support-bot" and "TemplateProviders" not in sent
    details = sent["ServiceCatalogProvisioningDetails"]
    assert (details["ProductId"], details["ProvisioningArtifactId"], details["PathId"]) == (
        PRODUCT["ProductId"], "pa-new0000000002", PATH["Id"])
    parameters = {p["Key"]: p["Value"] for p in details["ProvisioningParameters"]}
    assert parameters == {"Model": "tii-falcon-7b-instruct", "WeightsFolder": "falcon-7b-instruct/base"}
    assert {t["Key"]: t["Value"] for t in sent["Tags"]} == {
        "fmops:team": "genai", "fmops:cost-centre": "CC-2001", "fmops:project": "assistant"}


def test_rollback_names_the_failing_resource_and_reason(stubs, clients, hosting_parameters):
    provisioner, catalog, cloudformation = stubs
    sagemaker = clients[1]["sagemaker"]
    _expect_resolution(catalog, hosting_parameters)
    sagemaker.add_response("create_project", {"ProjectArn": PROJECT_ARN, "ProjectId": PROJECT_ID})
    _project_states(sagemaker, "CreateFailed", ServiceCatalogProvisionedProductDetails={
        "ProvisionedProductId": "pp-abcdefghijklm", "ProvisionedProductStatusMessage": "The stack rolled back"})
    stack = "arn:aws:cloudformation:eu-west-1:333333333331:stack/SC-333333333331-pp-abc/1234"
    catalog.add_response("search_provisioned_products", {"ProvisionedProducts": [
        {"Name": "support-bot-p-abcdefghijkl", "PhysicalId": stack, "Id": "pp-abcdefghijklm"}]},
        {"AccessLevelFilter": {"Key": "Account", "Value": "self"},
         "Filters": {"SearchQuery": ["id:pp-abcdefghijklm"]}})
    when = datetime.datetime(2026, 6, 1)
    events = [  # newest first, as CloudFormation returns them
        {"StackId": stack, "EventId": "3", "StackName": "SC-333333333331-pp-abc", "Timestamp": when,
         "LogicalResourceId": "EndpointConfig", "ResourceType": "AWS::SageMaker::EndpointConfig",
         "ResourceStatus": "CREATE_FAILED", "ResourceStatusReason": "Resource creation cancelled"},
        {"StackId": stack, "EventId": "2", "StackName": "SC-333333333331-pp-abc", "Timestamp": when,
         "LogicalResourceId": "EndpointModel", "ResourceType": "AWS::SageMaker::Model",
         "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Could not access model data at s3://fmops-genai-data/models/x/ (AccessDenied)"},
        {"StackId": stack, "EventId": "1", "StackName": "SC-333333333331-pp-abc", "Timestamp": when,
         "LogicalResourceId": "SC-333333333331-pp-abc", "ResourceType": "AWS::CloudFormation::Stack",
         "ResourceStatus": "CREATE_IN_PROGRESS", "ResourceStatusReason": "User Initiated"},
    ]
    cloudformation.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": stack})
    console = _console()
    code = main_provision(["fm-hosting", "--name", "support-bot", "--param", "Model=tii-falcon-7b-instruct",
                           "--param", "WeightsFolder=x", "--project-tag", "search"], provisioner, console)
    text = _text(console)
    assert code == EXIT_FAILED
    assert "failed resource EndpointModel (AWS::SageMaker::Model): Could not access model data" in text
    assert "EndpointConfig" not in text  # cancelled resources are consequences, not causes
    assert "The stack rolled back" in text and PROJECT_ID in text


# -- --via project: no Service Catalog --------------------------------------------------------

TEMPLATE_URL = "https://s3.eu-west-1.amazonaws.com/cdk-hnb659fds-assets-123456789012-eu-west-1/abc.json"
PROJECT_ROLE = "arn:aws:iam::123456789012:role/fmops-pilot-project-launch"


@pytest.fixture
def project_config(tmp_path):
    """The single-account config with team pilot on the project path."""
    text = (REPO / "config" / "single-account.yaml").read_text()
    path = tmp_path / "trial.yaml"
    path.write_text(text.replace("    alarms: {emails: [pilot-oncall@example.com]}\n",
                                 "    alarms: {emails: [pilot-oncall@example.com]}\n    catalog: {project_path: project}\n"))
    return path


def _expect_project_template(stubbers: dict, parameters: list[dict]) -> None:
    stubbers["ssm"].add_response("get_parameters_by_path", {"Parameters": [
        {"Name": "/fmops/catalog/pilot/project-template/fm-hosting", "Type": "String",
         "Value": json.dumps({"url": TEMPLATE_URL, "version": "1.3.0", "role": PROJECT_ROLE})}]},
        {"Path": "/fmops/catalog/pilot/project-template"})
    summary = [{k: p[k] for k in ("ParameterKey", "ParameterType", "Description", "DefaultValue", "ParameterConstraints")
                if k in p and (k != "ParameterConstraints" or "AllowedValues" in p[k])} for p in parameters]
    for entry, original in zip(summary, parameters):
        if "AllowedValues" in original.get("ParameterConstraints", {}):
            entry["ParameterConstraints"] = {"AllowedValues": original["ParameterConstraints"]["AllowedValues"]}
    stubbers["cloudformation"].add_response("get_template_summary", {"Parameters": summary},
                                            {"TemplateURL": TEMPLATE_URL})


def test_project_path_creates_a_sagemaker_project_from_the_template_url(clients, hosting_parameters, project_config):
    """--via project: CreateProject with TemplateProviders (the URL and role of the SSM parameter),
    the parameters checked against the template, the team's tags; outputs read from the stack."""
    provisioner, stubbers = clients
    _expect_project_template(stubbers, hosting_parameters)
    sent = _sent(provisioner.sagemaker, "CreateProject")
    stubbers["sagemaker"].add_response("create_project", {"ProjectArn": PROJECT_ARN, "ProjectId": PROJECT_ID})
    stack = "arn:aws:cloudformation:eu-west-1:123456789012:stack/SM-p-abcdefghijkl/1"
    _project_states(stubbers["sagemaker"], "CreateInProgress", "CreateCompleted", TemplateProviderDetails=[
        {"CfnTemplateProviderDetail": {"TemplateName": "fm-hosting", "TemplateURL": TEMPLATE_URL,
                                       "StackDetail": {"Name": "SM-p-abcdefghijkl", "Id": stack,
                                                       "StatusMessage": "CREATE_COMPLETE"}}}])
    stubbers["cloudformation"].add_response("describe_stacks", {"Stacks": [
        {"StackName": "SM-p-abcdefghijkl", "StackId": stack, "CreationTime": datetime.datetime(2026, 6, 1),
         "StackStatus": "CREATE_COMPLETE", "Outputs": [{"OutputKey": "EndpointName", "OutputValue": "pilot-bot"}]}]},
        {"StackName": stack})
    console = _console()
    code = main_provision(["fm-hosting", "--name", "support-bot", "--via", "project", "--team", "pilot",
                           "--config", str(project_config), "--param", "Model=tii-falcon-7b-instruct",
                           "--param", "WeightsFolder=falcon-7b-instruct/base"], provisioner, console)
    assert code == EXIT_OK, _text(console)
    assert "pilot-bot" in _text(console)
    assert "ServiceCatalogProvisioningDetails" not in sent
    [provider] = sent["TemplateProviders"]
    cfn = provider["CfnTemplateProvider"]
    assert (cfn["TemplateName"], cfn["TemplateURL"], cfn["RoleARN"]) == ("fm-hosting", TEMPLATE_URL, PROJECT_ROLE)
    assert {p["Key"]: p["Value"] for p in cfn["Parameters"]} == {
        "SageMakerProjectName": "support-bot", "Model": "tii-falcon-7b-instruct",
        "WeightsFolder": "falcon-7b-instruct/base"}
    assert {t["Key"]: t["Value"] for t in sent["Tags"]} == {
        "fmops:team": "pilot", "fmops:cost-centre": "CC-0001", "fmops:project": "pilot"}


def test_project_path_refuses_bad_input_before_creating_anything(clients, hosting_parameters, project_config):
    provisioner, stubbers = clients
    _expect_project_template(stubbers, hosting_parameters)
    console = _console()
    common = ["--name", "bot", "--via", "project", "--team", "pilot", "--config", str(project_config)]
    assert main_provision(["fm-hosting", *common, "--param", "Model=gpt-42", "--param", "WeightsFolder=x"],
                          provisioner, console) == EXIT_INPUT
    assert "bad parameter Model='gpt-42': allowed values are" in _text(console)
    stubbers["ssm"].add_response("get_parameters_by_path", {"Parameters": []},
                                 {"Path": "/fmops/catalog/pilot/project-template"})
    console = _console()
    assert main_provision(["genai-app", *common], provisioner, console) == EXIT_INPUT
    assert "unknown SageMaker project template 'genai-app'" in _text(console)
    for argv, message in ((["fm-hosting", "--name", "bot", "--via", "project"], "--via project needs --team"),
                          (["fm-hosting", "--name", "bot", "--via", "project", "--team", "risk"],
                           "team risk launches through Service Catalog"),
                          (["fm-hosting", *common, "--version", "1.0.0"], "--version")):
        console = _console()
        assert main_provision(argv, provisioner, console) == EXIT_INPUT, argv
        assert message in _text(console)


@pytest.mark.parametrize(("params", "message"), [
    (["--param", "Colour=blue"], "bad parameter 'Colour': the product has no such parameter"),
    (["--param", "Model=gpt-42", "--param", "WeightsFolder=x"], "bad parameter Model='gpt-42': allowed values are"),
    (["--param", "WeightsFolder=x"], "missing parameter Model"),
    (["--param", "Model=tii-falcon-7b-instruct", "--param", "ModelPackageName=other-team-chat/3"],
     "bad parameter ModelPackageName"),
    (["--param", "Model=tii-falcon-7b-instruct", "--param", "WeightsFolder=../up"], "bad parameter WeightsFolder"),
])
def test_bad_parameters_fail_before_anything_is_provisioned(stubs, hosting_parameters, params, message):
    provisioner, catalog, _ = stubs
    _expect_resolution(catalog, hosting_parameters)
    console = _console()
    assert main_provision(["fm-hosting", "--name", "bot", "--project-tag", "search", *params],
                          provisioner, console) == EXIT_INPUT
    assert message in _text(console)


def test_unknown_product_lists_what_the_role_may_launch(stubs):
    provisioner, catalog, _ = stubs
    catalog.add_response("search_products", {"ProductViewSummaries": [PRODUCT], "NextPageToken": "next"})
    catalog.add_response("search_products", {"ProductViewSummaries": [
        {**PRODUCT, "ProductId": "prod-zzzzzzzzzzzzz", "Name": "GenAI application on Bedrock"}]}, {"PageToken": "next"})
    console = _console()
    assert main_provision(["fm-train-everything", "--name", "x"], provisioner, console) == EXIT_INPUT
    assert "unknown product 'fm-train-everything'; your role may launch: fm-hosting, genai-app" in _text(console)


def test_missing_permission_names_the_operation_and_the_caller(stubs):
    provisioner, catalog, _ = stubs
    catalog.add_client_error("search_products", service_error_code="AccessDeniedException",
                             service_message="not authorized to perform servicecatalog:SearchProducts")
    console = _console()
    assert main_provision(["--list"], provisioner, console) == EXIT_INPUT
    text = _text(console)
    assert "missing permission: servicecatalog:SearchProducts was denied for arn:aws:" in text  # moto's identity
    assert "launcher persona" in text


def test_invalid_project_name_is_refused_locally(stubs):
    provisioner, _, _ = stubs
    console = _console()
    assert main_provision(["fm-hosting", "--name", "bad_name"], provisioner, console) == EXIT_INPUT
    assert "SageMaker's rule" in _text(console)


def test_projects_lists_the_teams_provisioned_products(stubs):
    provisioner, catalog, _ = stubs
    team = [{"Key": "fmops:team", "Value": "genai"}, {"Key": "fmops:project", "Value": "assistant"}]
    catalog.add_response("search_provisioned_products", {"ProvisionedProducts": [
        {"Name": "support-bot", "Id": "pp-1", "Status": "AVAILABLE", "ProductName": "FM hosting", "Tags": team}],
        "NextPageToken": "n"}, {"AccessLevelFilter": {"Key": "Account", "Value": "self"}, "PageSize": 100})
    catalog.add_response("search_provisioned_products", {"ProvisionedProducts": [
        {"Name": "risk-model", "Id": "pp-2", "Status": "AVAILABLE", "Tags": [{"Key": "fmops:team", "Value": "risk"}]}]},
        {"AccessLevelFilter": {"Key": "Account", "Value": "self"}, "PageSize": 100, "PageToken": "n"})
    console = _console()
    assert main_projects(["--team", "genai", "--json"], provisioner, console) == EXIT_OK
    rows = json.loads(_text(console))
    assert [(r["name"], r["team"], r["project"]) for r in rows] == [("support-bot", "genai", "assistant")]


def test_describe_product_on_moto(aws):
    """moto implements CreateProduct and DescribeProduct (without versions): a product id that
    does not exist is reported as not found, an existing product's versions are read."""
    catalog = _client("servicecatalog")
    created = catalog.create_product(
        Name="FM hosting", Owner="fmops", ProductType="CLOUD_FORMATION_TEMPLATE", IdempotencyToken="t1",
        ProvisioningArtifactParameters={"Name": "1.0.0", "Type": "CLOUD_FORMATION_TEMPLATE",
                                        "Info": {"LoadTemplateFromURL": "https://s3.amazonaws.com/b/t.json"}})
    product_id = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    provisioner = Provisioner(catalog, _client("cloudformation"), _client("sts"))
    assert provisioner.versions(Product(product_id, "FM hosting", "fm-hosting", "")) == []
    with pytest.raises(ProvisionError, match="not found"):
        provisioner.versions(Product("prod-doesnotexist1", "FM hosting", "fm-hosting", ""))


def test_tags_come_from_tag_options():
    assert choose_tags(TAG_OPTIONS, "search") == {"fmops:team": "genai", "fmops:cost-centre": "CC-2001",
                                                  "fmops:project": "search"}
    with pytest.raises(ProvisionError, match="choose a value for tag fmops:project"):
        choose_tags(TAG_OPTIONS, None)
    with pytest.raises(ProvisionError, match="the team's projects are assistant, search"):
        choose_tags(TAG_OPTIONS, "other")


def test_check_parameters_accepts_defaults():
    declared = [{"ParameterKey": "A", "DefaultValue": "1"}, {"ParameterKey": "B"}]
    assert check_parameters(declared, {"B": "x"}) == {"B": "x"}


def test_sagemakers_parameters_are_not_the_users(stubs, hosting_parameters):
    """SageMaker gives the template its project name and id: the command invents neither and refuses them."""
    provisioner, catalog, _ = stubs
    _expect_resolution(catalog, hosting_parameters)
    console = _console()
    assert main_provision(["fm-hosting", "--name", "bot", "--project-tag", "search", "--param",
                           "SageMakerProjectId=p-123456789012"], provisioner, console) == EXIT_INPUT
    assert "SageMakerProjectId: SageMaker sets it" in _text(console)
    declared = [{"ParameterKey": "SageMakerProjectName"}, {"ParameterKey": "SageMakerProjectId"}]
    assert check_parameters(declared, {}, provided=("SageMakerProjectName", "SageMakerProjectId")) == {}
    with pytest.raises(ProvisionError, match="missing parameter SageMakerProjectId"):
        check_parameters(declared, {"SageMakerProjectName": "x"})


def test_cli_delegates_both_commands():
    for command in ("provision", "projects"):
        with pytest.raises(SystemExit) as exited:
            cli.main([command, "--help"])
        assert exited.value.code == 0, command
