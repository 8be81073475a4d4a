"""The governed team data lake (feature data-lake): config, plan, synthesized stacks, boundary.

The templates come from the session-shared assemblies (tests/conftest.py); what Lake Formation
and Glue do at run time cannot be checked offline, so these tests pin what CloudFormation is
asked to create: registration with a custom role, tags on the databases, grantable permissions
for the data owner only, the declared cross-account share and its consumer side, the NETWORK
connection in an isolated subnet, the encrypting security configuration and the enforced
Athena workgroup.
"""

from __future__ import annotations

import json

import pytest

from infra import personas
from infra.config import ConfigError, load_config, load_config_text
from infra.config.validators import MAX_DATA_LAKE_MODEL_ARNS
from infra.plan import build_plan
from infra.plan.endpoints import interface_endpoints
from tests.conftest import REPO, resources

DEFAULT_TEXT = (REPO / "config" / "default.yaml").read_text()
RISK_DEV = "fmops-risk-dev-risk-data-lake"
GENAI_DEV = "fmops-genai-dev-genai-data-lake"


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config_text(text, "config.yaml")
    return str(raised.value)


@pytest.mark.parametrize("old, new, expected", [
    ("sensitivity: [public, internal]", "sensitivity: [public, restricted]", "restricted is never shared"),
    ("        - consumer: genai\n", "        - consumer: nobody\n", "grant to unknown team 'nobody'"),
    ("        - consumer: genai\n", "        - consumer: risk\n", "a grant to the team itself is not needed"),
    ("          domains: [credit-risk]\n", "          domains: [retail]\n", "domain 'retail' is not one of"),
    ("        - consumer: genai\n", "        - consumer: genai\n          principal: arn:aws:iam::444444444444:root\n",
     "exactly one of consumer"),
    ("private-api, data-lake]", "private-api]", "team genai, which has no feature data-lake"),
])
def test_bad_data_lake_config_is_one_located_line(old, new, expected):
    assert old in DEFAULT_TEXT
    message = _error(DEFAULT_TEXT.replace(old, new, 1))
    assert len(message.splitlines()) == 1 and expected in message, message
    assert message.startswith("config.yaml:") and "data_lake" in message or "features" in message


def test_data_lake_settings_need_the_feature():
    text = DEFAULT_TEXT.replace("features: [studio, pipelines, hosting, service-catalog, mlflow, data-lake]",
                                "features: [studio, pipelines, hosting, service-catalog, mlflow]", 1)
    assert "data_lake settings need feature data-lake" in _error(text)


def test_endpoints_follow_the_feature():
    assert {"glue", "athena", "lakeformation"} <= set(interface_endpoints({__import__("infra.config").config.Feature.DATA_LAKE}))
    plan = build_plan(load_config(REPO / "config" / "default.yaml"))
    tooling = next(a for a in plan.accounts if a.name == "tooling")
    assert "glue" not in tooling.interface_endpoints and not tooling.lake_tags


def test_declared_share_goes_to_the_consumer_account_of_the_same_stage():
    plan = build_plan(load_config(REPO / "config" / "default.yaml"))
    by_name = {a.name: a for a in plan.accounts}
    [share] = by_name["risk-dev"].teams[0].shares_out
    assert share.principal == by_name["genai-dev"].account.id and share.cross_account
    assert share.expression() == {"team": ["risk"], "domain": ["credit-risk"], "sensitivity": ["public", "internal"]}
    [incoming] = by_name["genai-dev"].teams[0].shares_in
    assert incoming == share and incoming.consumer_role.endswith(":role/fmops-genai-data-consumer")


def test_location_registered_with_its_own_least_privilege_role(default_templates):
    template = default_templates[RISK_DEV]
    [location] = resources(template, "AWS::LakeFormation::Resource").values()
    props = location["Properties"]
    assert props["UseServiceLinkedRole"] is False and props["ResourceArn"].endswith("/lake")
    role = template["Resources"][props["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "lakeformation.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"]
    actions = {a for s in role["Policies"][0]["PolicyDocument"]["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket",
                       "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
    assert "PermissionsBoundary" in role  # the team boundary, like every role of the team's stacks


def test_databases_are_tagged_and_iam_defaults_are_off(default_templates):
    template = default_templates[RISK_DEV]
    names = {d["Properties"]["DatabaseInput"]["Name"] for d in resources(template, "AWS::Glue::Database").values()}
    assert names == {"risk_raw", "risk_curated", "risk_ml_results"}
    for association in resources(template, "AWS::LakeFormation::TagAssociation").values():
        keys = {t["TagKey"]: t["TagValues"] for t in association["Properties"]["LFTags"]}
        assert keys == {"team": ["risk"], "domain": ["credit-risk"], "sensitivity": ["internal"]}
    [settings] = resources(default_templates["fmops-risk-dev-lake-formation"], "AWS::LakeFormation::DataLakeSettings").values()
    props = settings["Properties"]
    assert props["CreateDatabaseDefaultPermissions"] == [] and props["CreateTableDefaultPermissions"] == []
    assert props["Parameters"] == {"CROSS_ACCOUNT_VERSION": "4"} and props["MutationType"] == "APPEND"
    assert [a["DataLakePrincipalIdentifier"] for a in props["Admins"]] == [
        "arn:aws:iam::222222222221:role/cdk-hnb659fds-cfn-exec-role-222222222221-eu-west-1"]


def _grants(template: dict) -> list[dict]:
    return [r["Properties"] for r in resources(template, "AWS::LakeFormation::PrincipalPermissions").values()]


def test_only_the_data_owner_holds_grantable_permissions(default_templates):
    grantable = [g for g in _grants(default_templates[RISK_DEV]) if g["PermissionsWithGrantOption"]]
    assert grantable and {g["Principal"]["DataLakePrincipalIdentifier"] for g in grantable} == {
        "arn:aws:iam::222222222221:role/fmops-risk-data-owner"}
    for grant in grantable:  # on the team's own tag only, read permissions only
        assert set(grant["PermissionsWithGrantOption"]) <= {"SELECT", "DESCRIBE"}
        assert grant["Resource"]["LFTagPolicy"]["Expression"] == [{"TagKey": "team", "TagValues": ["risk"]}]


def test_the_declared_share_and_its_consumer_side(default_templates):
    shares = [g for g in _grants(default_templates[RISK_DEV])
              if g["Principal"]["DataLakePrincipalIdentifier"] == "333333333331"]
    tables = [g for g in shares if g["Resource"]["LFTagPolicy"]["ResourceType"] == "TABLE"]
    assert [g["Permissions"] for g in tables] == [["SELECT", "DESCRIBE"]]
    assert tables[0]["PermissionsWithGrantOption"] == []
    consumer = default_templates[GENAI_DEV]
    links = [d["Properties"]["DatabaseInput"] for d in resources(consumer, "AWS::Glue::Database").values()
             if "TargetDatabase" in d["Properties"]["DatabaseInput"]]
    assert {(link["Name"], link["TargetDatabase"]["CatalogId"]) for link in links} == {
        ("shared_risk_raw", "222222222221"), ("shared_risk_curated", "222222222221"),
        ("shared_risk_ml_results", "222222222221")}
    remote = [g for g in _grants(consumer) if g["Resource"].get("LFTagPolicy", {}).get("CatalogId") == "222222222221"]
    assert [g["Principal"]["DataLakePrincipalIdentifier"] for g in remote] == [
        "arn:aws:iam::333333333331:role/fmops-genai-data-consumer"]


def test_etl_runs_in_the_vpc_encrypted(default_templates):
    template = default_templates[RISK_DEV]
    [connection] = resources(template, "AWS::Glue::Connection").values()
    inputs = connection["Properties"]["ConnectionInput"]
    assert inputs["ConnectionType"] == "NETWORK"
    assert set(inputs["PhysicalConnectionRequirements"]) == {"AvailabilityZone", "SubnetId", "SecurityGroupIdList"}
    [security] = resources(template, "AWS::Glue::SecurityConfiguration").values()
    encryption = security["Properties"]["EncryptionConfiguration"]
    assert encryption["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    [crawler] = resources(template, "AWS::Glue::Crawler").values()
    assert crawler["Properties"]["CrawlerSecurityConfiguration"] == security["Properties"]["Name"]
    assert crawler["Properties"]["Targets"]["S3Targets"][0]["ConnectionName"] == inputs["Name"]


def test_athena_results_are_enforced_and_encrypted(default_templates):
    [workgroup] = resources(default_templates[RISK_DEV], "AWS::Athena::WorkGroup").values()
    config = workgroup["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    result = config["ResultConfiguration"]
    assert result["OutputLocation"] == "s3://fmops-risk-data-222222222221-eu-west-1/athena-results/"
    assert result["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"


def test_team_bucket_admits_only_the_registration_role_from_outside_the_vpc(default_templates):
    policies = resources(default_templates["fmops-risk-dev-risk"], "AWS::S3::BucketPolicy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
                  if s.get("Sid") == "DenyOutsideVpcEndpoint"]
    assert [s["Condition"]["ArnNotLike"]["aws:PrincipalArn"] for s in statements] == [  # risk has MLflow too
        ["arn:aws:iam::222222222221:role/fmops-risk-mlflow", "arn:aws:iam::222222222221:role/fmops-risk-lake-registration"]]


def test_teams_without_the_feature_get_no_data_lake(single_templates, default_templates):
    assert "fmops-sandbox-pilot-data-lake" in single_templates
    assert not [n for n in default_templates if n.startswith("fmops-tooling") and "lake" in n]


def _size(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def test_data_lake_boundary_fits_with_the_most_models_config_allows():
    """A data-lake team's boundary admits Glue, Athena and Lake Formation and their guards; with
    the most Bedrock model ARNs the config admits (long names) it still fits IAM's limit; other
    teams' boundaries admit none of the three services."""
    arns = []
    for index in range(MAX_DATA_LAKE_MODEL_ARNS // 2):
        model = f"anthropic.claude-model-{index}-20250101-v1:0"
        arns += [f"arn:aws:bedrock:eu-west-1:333333333331:inference-profile/eu.{model}",
                 f"arn:aws:bedrock:eu-*::foundation-model/{model}"]
    team = "a-team-name-20-chars"  # the longest team name (SLUG)
    boundary = f"arn:aws:iam::333333333331:policy/fmops-{team}-boundary"
    approvers = personas.approver_role_arns("fmops", team, "333333333331")
    lake = personas.boundary_document(boundary, arns, approvers, org="fmops", team=team, data_lake=True)
    assert _size(lake) <= 6144
    by_sid = {s["Sid"]: s for s in lake["Statement"]}
    assert by_sid["OnlyTheDataOwnerGrants"]["Action"] == ["lakeformation:*Permissions"]
    assert by_sid["OnlyTheDataOwnerGrants"]["Condition"] == {
        "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/fmops-{team}-data-owner"}}
    assert by_sid["DenyGlueJobsOutsideVpc"]["Condition"] == {"Null": {"glue:VpcIds": "true"}}
    plain = personas.boundary_document(boundary, arns, approvers, org="fmops", team=team)
    assert not [a for a in plain["Statement"][0]["Action"] if a.split(":")[0] in ("glue", "athena", "lakeformation")]


def test_too_many_models_for_a_data_lake_team_is_refused():
    extra = """  - id: amazon-nova-micro
    provider: Amazon
    name: Nova Micro
    source: proprietary
    commercial_use: true
    availability: [bedrock]
    context_window_tokens: 128000
    trained_on: []
    fine_tunable: true
    bedrock_model_id: amazon.nova-micro-v1:0
"""
    text = DEFAULT_TEXT.replace("bedrock_models: [amazon-nova-pro, amazon-nova-lite]",
                                "bedrock_models: [amazon-nova-pro, amazon-nova-lite, anthropic-claude-3-haiku, "
                                "amazon-nova-micro]", 1) + extra
    message = _error(text)
    assert len(message.splitlines()) == 1
    assert "genai.bedrock_models" in message and f"at most {MAX_DATA_LAKE_MODEL_ARNS} Bedrock model ARNs" in message
    assert "this one 8" in message
