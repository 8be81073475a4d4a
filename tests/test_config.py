"""Config validation: one test per error class, messages that name file:line, field and fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli import main as fmops
from infra.config import DEFAULT_CONFIG, SCHEMA_PATH, ConfigError, Feature, Mode, load_config, schema_text
from infra.plan.endpoints import interface_endpoints

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TEXT = DEFAULT_CONFIG.read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return str(caught.value)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_embedded_default_is_an_organisation():
    config = load_config()
    assert config.organisation.mode is Mode.ORGANISATION
    assert [a.name for a in config.accounts if a.role == "governance"] == ["tooling"]
    assert len(config.teams) == 2
    for team in config.teams:
        assert set(team.accounts.by_stage()) == {"dev", "preprod", "prod"}


def test_single_account_config_is_valid():
    config = load_config(REPO / "config" / "single-account.yaml")
    assert config.organisation.mode is Mode.SINGLE_ACCOUNT
    assert len(config.accounts) == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('id: "222222222221"', 'id: "22222222222"', ["accounts[1](name=risk-dev).id", "'22222222222'", "12 digits"]),
        ('id: "222222222221"', "id: 222222222221", ["accounts[1](name=risk-dev).id", "quoted"]),
        ("- name: genai\n", "- name: risk\n", ["teams[1](name=risk).name", "duplicate name 'risk'"]),
        ("- name: genai-prod", "- name: genai-preprod", ["accounts[6](name=genai-preprod).name", "duplicate name"]),
        ('id: "333333333333"', 'id: "333333333332"', ["accounts[6](name=genai-prod).id", "duplicate id"]),
        ("cidr: 10.2.32.0/20", "cidr: 10.2.32.0/33", ["accounts[6](name=genai-prod).network.cidr", "not a valid IPv4"]),
        ("cidr: 10.2.32.0/20", "cidr: 8.8.0.0/20", ["network.cidr", "not a private"]),
        ("cidr: 10.2.32.0/20", "cidr: 10.2.32.0/26", ["network.cidr", "allowed is /16 to /24"]),
        ("cidr: 10.2.32.0/20", "cidr: 10.2.0.0/20", ["accounts[6](name=genai-prod).network.cidr", "overlaps account genai-dev"]),
        ("availability_zones: [eu-west-1a, eu-west-1b, eu-west-1c]", "availability_zones: [eu-west-1a]",
         ["organisation.availability_zones", "at least 2"]),
        ("network: {cidr: 10.2.32.0/20, az_count: 3}", "network: {cidr: 10.2.32.0/20, az_count: 1}",
         ["accounts[6](name=genai-prod).network.az_count", "use 2 or 3"]),
        ("availability_zones: [eu-west-1a, eu-west-1b, eu-west-1c]", "availability_zones: [eu-west-1a, eu-west-1b]",
         ["network.az_count", "exceeds the 2 availability_zones"]),
        ("availability_zones: [eu-west-1a, eu-west-1b, eu-west-1c]",
         "availability_zones: [eu-west-1a, eu-west-1b, us-east-1a]", ["availability_zones[2]", "not in region eu-west-1"]),
        ("region: eu-west-1", "region: eu-middle-9", ["organisation.region", "unknown region 'eu-middle-9'", "eu-west-1"]),
        ("features: [studio, pipelines, hosting, service-catalog, mlflow, data-lake]", "features: [studio, pipeline]",
         ["teams[0](name=risk).features[1]", "'pipeline' is not allowed", "use one of: studio, pipelines,"]),
        ("    cost_centre: CC-1001\n", "", ["teams[0](name=risk).cost_centre", "required field is missing"]),
        ("    role: governance\n", "    role: governance\n    colour: blue\n",
         ["accounts[0](name=tooling).colour", "unknown key 'colour'"]),
        ("  log_retention_days: 365", "  log_retention_days: 100", ["organisation.log_retention_days", "not a CloudWatch Logs retention"]),
        ("accounts: {dev: risk-dev, preprod: risk-preprod, prod: risk-prod}",
         "accounts: {dev: risk-dev, preprod: risk-prod, prod: risk-prod}",
         ["teams[0](name=risk).accounts.preprod", "a prod account"]),
        ("accounts: {dev: risk-dev, preprod: risk-preprod, prod: risk-prod}",
         "accounts: {dev: risk-devv, preprod: risk-preprod, prod: risk-prod}",
         ["teams[0](name=risk).accounts.dev", "'risk-devv', which is not in accounts"]),
        ("    role: governance\n", "    role: workload\n    stage: dev\n", ["accounts", "exactly one governance account, found 0"]),
    ],
    ids=["short-account-id", "unquoted-account-id", "duplicate-team", "duplicate-account-name",
         "duplicate-account-id", "bad-cidr", "public-cidr", "tiny-cidr", "overlapping-cidr", "one-az",
         "az-count-1", "az-count-above-zones", "az-in-other-region", "unknown-region", "unknown-feature",
         "missing-field", "unknown-key", "bad-retention", "team-stage-mismatch", "unknown-account-ref",
         "no-governance"],
)
def test_bad_config_names_field_value_and_fix(tmp_path, old, new, expected):
    assert old in DEFAULT_TEXT
    text = DEFAULT_TEXT.replace(old, new, 1)
    message = error_for(tmp_path, text)
    for part in expected:
        assert part in message, message
    assert message.startswith(str(tmp_path / "config.yaml") + ":")


def test_error_points_at_the_line_to_change(tmp_path):
    text = DEFAULT_TEXT.replace('id: "222222222221"', 'id: "2222"', 1)
    message = error_for(tmp_path, text)
    assert message.split(":")[1] == str(line_of(text, 'id: "2222"'))


def test_unknown_key_at_top_level_is_reported_on_its_line(tmp_path):
    text = DEFAULT_TEXT + "team:\n  - name: typo\n"
    message = error_for(tmp_path, text)
    assert f":{line_of(text, 'team:')}: team: unknown key 'team'" in message


def test_not_yaml_and_missing_file(tmp_path):
    assert "not valid YAML" in error_for(tmp_path, "organisation: [unclosed\n")
    assert ":1: (top level): the file holds a list; a config is a mapping" in error_for(tmp_path, "- a list\n")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml")


def test_existing_vpc_needs_s3_endpoint_with_central_endpoints(tmp_path):
    text = DEFAULT_TEXT.replace(
        "network: {cidr: 10.2.32.0/20, az_count: 3}",
        "network:\n      existing:\n        vpc_id: vpc-0123456789abcdef0\n        cidr: 10.2.32.0/20\n"
        "        endpoints: central\n        subnets:\n"
        "          - {id: subnet-0123456789abcdef0, availability_zone: eu-west-1a, route_table_id: rtb-0123456789abcdef0}\n"
        "          - {id: subnet-0123456789abcdef1, availability_zone: eu-west-1b, route_table_id: rtb-0123456789abcdef1}\n",
    )
    message = error_for(tmp_path, text)
    assert "network.existing.s3_gateway_endpoint_id" in message and "endpoints: central needs" in message


def test_single_account_mode_takes_one_account(tmp_path):
    text = DEFAULT_TEXT.replace("mode: organisation", "mode: single-account")
    assert "organisation.mode: mode single-account takes exactly one account, found 7" in error_for(tmp_path, text)


def test_fmops_validate_exit_codes(tmp_path, capsys):
    assert fmops(["validate", str(DEFAULT_CONFIG)]) == 0
    assert "valid (7 accounts, 2 teams" in capsys.readouterr().out
    bad = write(tmp_path, DEFAULT_TEXT.replace("region: eu-west-1", "region: mars-1"))
    assert fmops(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown region 'mars-1'" in err and "Traceback" not in err


def test_fmops_validate_as_a_process_has_no_traceback(tmp_path):
    bad = write(tmp_path, DEFAULT_TEXT.replace("cidr: 10.2.32.0/20", "cidr: 10.2.0.0/20"))
    result = subprocess.run([sys.executable, "-m", "infra.cli", "validate", str(bad)],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert "overlaps account genai-dev" in result.stderr and "Traceback" not in result.stderr


def test_schema_is_current():
    assert SCHEMA_PATH.read_text() == schema_text(), "config/schema.json is stale: run `fmops schema`"


def test_schema_lists_every_feature():
    assert set(Feature) <= set(schema_text().split('"')), "features missing from the schema"


def test_endpoints_follow_features():
    base = interface_endpoints(frozenset())
    assert base == ["sts", "logs", "monitoring", "kms", "ssm", "ec2"]
    bedrock = interface_endpoints(frozenset({Feature.BEDROCK}))
    assert set(bedrock) - set(base) == {"bedrock", "bedrock-runtime"}
    everything = interface_endpoints(frozenset(Feature))
    for name in ("sagemaker.api", "sagemaker.runtime", "studio", "servicecatalog", "ecr.api", "ecr.dkr",
                 "codeartifact.api", "codeartifact.repositories", "events", "bedrock-agent",
                 "bedrock-agent-runtime", "execute-api"):
        assert name in everything


def test_cdk_synth_refuses_a_bad_config_and_writes_no_template(tmp_path):
    bad = write(tmp_path, DEFAULT_TEXT.replace('id: "111111111111"', 'id: "1111"'))
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "-c", f"config={bad}", "-o", str(out)],
        capture_output=True, text=True, cwd=REPO,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_CLI_TELEMETRY": "true"},
    )
    assert result.returncode != 0
    assert "accounts[0](name=tooling).id: '1111' is not an AWS account ID" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(out.glob("*.template.json"))
