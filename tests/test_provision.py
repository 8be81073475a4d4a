"""`fmops provision` and `fmops projects` against botocore's Stubber (Service Catalog provisioning,
which moto does not implement: the Stubber validates every request and response against the
service model) and moto (STS, and DescribeProduct, which it implements)."""

from __future__ import annotations

import datetime
import io
import json
import re

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws
from rich.console import Console

from fmops_constructs.product import PROJECT_ID_PATTERN
from infra import cli
from infra.tools.provision import (EXIT_FAILED, EXIT_INPUT, EXIT_OK, Product, ProvisionError, Provisioner, check_parameters,
                             choose_tags, new_project_id)

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
def stubs(aws):
    catalog, cloudformation = _client("servicecatalog"), _client("cloudformation")
    with Stubber(catalog) as catalog_stub, Stubber(cloudformation) as cfn_stub:
        provisioner = Provisioner(catalog, cloudformation, _client("sts"), poll_seconds=0, sleep=lambda _: None)
        yield provisioner, catalog_stub, cfn_stub
        catalog_stub.assert_no_pending_responses()
        cfn_stub.assert_no_pending_responses()


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


def test_provisions_with_checked_parameters_waits_and_prints_outputs(stubs, hosting_parameters):
    provisioner, catalog, _ = stubs
    _expect_resolution(catalog, hosting_parameters)
    sent = {}
    provisioner.catalog.meta.events.register("provide-client-params.servicecatalog.ProvisionProduct",
                                             lambda params, **_: sent.update(params))
    catalog.add_response("provision_product", {"RecordDetail": {"RecordId": "rec-123456789012", "Status": "CREATED"}},
                         {"ProductId": PRODUCT["ProductId"], "ProvisioningArtifactId": "pa-new0000000002",
                          "PathId": PATH["Id"], "ProvisionedProductName": "support-bot", "ProvisionToken": ANY,
                          "ProvisioningParameters": ANY, "Tags": ANY})
    for status in ("IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"):
        catalog.add_response("describe_record", {"RecordDetail": {
            "RecordId": "rec-123456789012", "Status": status, "ProvisionedProductId": "pp-abcdefghijklm"}},
            {"Id": "rec-123456789012"})
    catalog.add_response("get_provisioned_product_outputs", {"Outputs": [
        {"OutputKey": "EndpointName", "OutputValue": "genai-support-bot"}]},
        {"ProvisionedProductId": "pp-abcdefghijklm"})
    console = _console()
    code = main_provision(["fm-hosting", "--name", "support-bot", "--param", "Model=tii-falcon-7b-instruct",
                           "--param", "WeightsFolder=falcon-7b-instruct/base", "--project-tag", "assistant"],
                          provisioner, console)
    assert code == EXIT_OK, _text(console)
    assert "genai-support-bot" in _text(console)
    parameters = {p["Key"]: p["Value"] for p in sent["ProvisioningParameters"]}
    assert parameters["SageMakerProjectName"] == "support-bot"
    assert re.fullmatch(PROJECT_ID_PATTERN, parameters["SageMakerProjectId"])
    assert {t["Key"]: t["Value"] for t in sent["Tags"]} == {
        "fmops:team": "genai", "fmops:cost-centre": "CC-2001", "fmops:project": "assistant"}


def test_rollback_names_the_failing_resource_and_reason(stubs, hosting_parameters):
    provisioner, catalog, cloudformation = stubs
    _expect_resolution(catalog, hosting_parameters)
    catalog.add_response("provision_product", {"RecordDetail": {"RecordId": "rec-999999999999", "Status": "CREATED"}})
    catalog.add_response("describe_record", {"RecordDetail": {
        "RecordId": "rec-999999999999", "Status": "FAILED", "ProvisionedProductId": "pp-abcdefghijklm",
        "RecordErrors": [{"Code": "StackRollback", "Description": "The stack rolled back"}]}})
    stack = "arn:aws:cloudformation:eu-west-1:333333333331:stack/SC-333333333331-pp-abc/1234"
    catalog.add_response("search_provisioned_products", {"ProvisionedProducts": [
        {"Name": "support-bot", "PhysicalId": stack, "Id": "pp-abcdefghijklm"}]},
        {"AccessLevelFilter": {"Key": "Account", "Value": "self"}, "Filters": {"SearchQuery": ["name:support-bot"]}})
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
    assert "StackRollback: The stack rolled back" in text


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


def test_project_ids_have_sagemakers_shape():
    assert all(re.fullmatch(PROJECT_ID_PATTERN, new_project_id()) and len(new_project_id()) == 14 for _ in range(20))


def test_cli_delegates_both_commands():
    for command in ("provision", "projects"):
        with pytest.raises(SystemExit) as exited:
            cli.main([command, "--help"])
        assert exited.value.code == 0, command
