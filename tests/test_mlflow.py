"""Experiment tracking (issue 18, part A): the team's private MLflow tracking server per account,
its artifact store, its endpoints, its cost line, the templates that log to it.

Who may read or log runs, and that another team's server is refused, is proven as workflows in
tests/test_workflows.py (track-experiments cells, log-runs-other-team, open-other-mlflow).
"""

from __future__ import annotations

import json
import sys
import types

import pytest

from fmops_constructs.mlflow import MLFLOW_WRITE
from infra.personas.classification import load_classification
from infra.tools.pricing import load_prices
from infra.tools.report import mlflow_line, stacks_in
from tests.conftest import product_templates, resources

RISK, GENAI = "fmops-risk-dev-risk", "fmops-genai-dev-genai"
SERVER_ARN = "arn:aws:sagemaker:eu-west-1:222222222221:mlflow-tracking-server/fmops-risk"


def _one(template: dict, kind: str) -> dict:
    [resource] = resources(template, kind).values()
    return resource["Properties"]


def test_a_team_with_the_feature_has_its_tracking_server_in_each_stage(default_templates):
    for account in ("risk-dev", "risk-preprod", "risk-prod"):
        server = _one(default_templates[f"fmops-{account}-risk"], "AWS::SageMaker::MlflowTrackingServer")
        assert server["TrackingServerName"] == "fmops-risk"
        assert server["TrackingServerSize"] == "Small"
        assert server["AutomaticModelRegistration"] is False
        assert server["ArtifactStoreUri"].startswith("s3://fmops-risk-data-") and server["ArtifactStoreUri"].endswith("/mlflow")
        assert {"Key": "fmops:team", "Value": "risk"} in server["Tags"]
    assert not resources(default_templates[GENAI], "AWS::SageMaker::MlflowTrackingServer")


def test_the_server_role_is_trusted_for_this_server_only_and_reaches_its_prefix_only(default_templates):
    template = default_templates[RISK]
    [role] = [r["Properties"] for r in resources(template, "AWS::IAM::Role").values()
              if r["Properties"]["RoleName"] == "fmops-risk-mlflow"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "222222222221"},
                                  "ArnLike": {"aws:SourceArn": SERVER_ARN}}
    assert role["PermissionsBoundary"] == {"Ref": next(k for k, r in resources(template, "AWS::IAM::ManagedPolicy").items()
                                                       if r["Properties"]["ManagedPolicyName"] == "fmops-risk-boundary")}
    [policy] = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["ArtifactObjects"]["Resource"] == "arn:aws:s3:::fmops-risk-data-222222222221-eu-west-1/mlflow/*"
    assert statements["ArtifactListing"]["Condition"] == {"StringLike": {"s3:prefix": ["mlflow/*", "mlflow"]}}
    assert statements["BucketKeyThroughS3"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    assert not [s for s in statements.values() if "Delete" in json.dumps(s["Action"])]


def test_the_bucket_admits_the_server_role_alone_from_outside_the_vpc(default_templates):
    # Only the server's role (and, where the team also has the data lake, its registration role).
    for name, admitted in ((RISK, ["arn:aws:iam::222222222221:role/fmops-risk-mlflow",
                                   "arn:aws:iam::222222222221:role/fmops-risk-lake-registration"]),
                           (GENAI, ["arn:aws:iam::333333333331:role/fmops-genai-lake-registration"])):
        template = default_templates[name]
        policy = _one(template, "AWS::S3::BucketPolicy")["PolicyDocument"]
        [deny] = [s for s in policy["Statement"] if s.get("Sid") == "DenyOutsideVpcEndpoint"]
        assert deny["Condition"].get("ArnNotLike", {}).get("aws:PrincipalArn") == admitted, name
    [bucket] = [r for r in resources(default_templates[RISK], "AWS::S3::Bucket").values()]
    assert "IF-S3-VPCE-ONLY" in json.dumps(bucket["Metadata"])


def test_the_tracking_uri_is_published_in_ssm(default_templates):
    [parameter] = [p["Properties"] for p in resources(default_templates[RISK], "AWS::SSM::Parameter").values()
                   if p["Properties"]["Name"] == "/fmops/mlflow/risk/tracking-server-arn"]
    assert parameter["Value"] == {"Fn::GetAtt": [next(k for k in resources(default_templates[RISK],
                                                                              "AWS::SageMaker::MlflowTrackingServer")),
                                                 "TrackingServerArn"]}


def test_the_experiments_endpoint_exists_where_a_team_tracks_and_admits_the_organisation_only(default_templates):
    def endpoints(account: str) -> dict[str, dict]:
        return {json.dumps(e["Properties"]["ServiceName"]): e["Properties"]
                for e in resources(default_templates[f"fmops-{account}-platform"], "AWS::EC2::VPCEndpoint").values()}

    risk = endpoints("risk-dev")
    experiments = risk['"aws.sagemaker.eu-west-1.experiments"']
    assert experiments["PrivateDnsEnabled"] is True
    [statement] = experiments["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg01"}}
    assert '"com.amazonaws.eu-west-1.sagemaker.api"' in risk
    assert '"aws.sagemaker.eu-west-1.experiments"' not in endpoints("genai-dev")


def test_only_teams_with_the_feature_grant_tracking_to_their_personas(default_templates):
    def granted(template: dict) -> set[str]:
        return {p["Properties"]["ManagedPolicyName"] for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                if "sagemaker-mlflow:" in json.dumps(p["Properties"]["PolicyDocument"])
                and "boundary" not in p["Properties"]["ManagedPolicyName"]}

    assert granted(default_templates[RISK]) == {f"fmops-risk-{p}" for p in (
        "data-scientist", "lead-data-scientist", "ml-engineer", "fine-tuner", "product-owner")}
    assert not granted(default_templates[GENAI])
    policies = {p["Properties"]["ManagedPolicyName"]: p["Properties"]["PolicyDocument"]
                for p in resources(default_templates[RISK], "AWS::IAM::ManagedPolicy").values()}
    reader = json.dumps(policies["fmops-risk-product-owner"])
    assert "sagemaker-mlflow:Get*" in reader and "sagemaker-mlflow:Log*" not in reader
    for statement in policies["fmops-risk-data-scientist"]["Statement"]:
        if "sagemaker-mlflow:Log*" in statement["Action"]:
            assert statement["Resource"] in (SERVER_ARN, [SERVER_ARN])
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/fmops:team": "risk"}}


def test_no_role_under_a_boundary_deletes_runs():
    entry = load_classification()["sagemaker-mlflow"]
    deletes = {a for a in entry.actions if a.startswith("Delete")}
    assert deletes and not deletes & entry.permitted("team") and not deletes & entry.permitted("launch")
    assert not [a for a in MLFLOW_WRITE if "Delete" in a]


def test_the_summary_shows_the_tracking_servers_fixed_cost(default_assembly):
    prices = load_prices()
    line = mlflow_line(stacks_in(default_assembly), prices)
    hourly = prices.mlflow_per_hour["eu-west-1"]["Small"]
    assert line.startswith("MLflow: 3 tracking servers (3 Small), fixed cost "
                           f"{3 * hourly * prices.hours_per_month:,.2f} USD/month"), line


@pytest.mark.parametrize("template_id", ["classical-ml", "fm-finetuning"])
def test_model_pipelines_log_their_evaluation_to_the_teams_server(default_assembly, template_id):
    """risk has the mlflow feature: its products' Evaluate step names the tracking parameter and the
    pipeline role may log to risk's server only; genai (no server) gets neither."""
    risk = product_templates(default_assembly, "fmops-risk-dev-risk-catalog")[template_id]
    genai = product_templates(default_assembly, "fmops-genai-dev-genai-catalog")[template_id]
    for template, tracked in ((risk, True), (genai, False)):
        definition = json.dumps(_one(template, "AWS::SageMaker::Pipeline")["PipelineDefinition"])
        assert ("/fmops/mlflow/risk/tracking-server-arn" in definition) is tracked
        statements = [s for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                      for s in p["Properties"]["PolicyDocument"]["Statement"]
                      if "sagemaker-mlflow" in json.dumps(s.get("Action"))]
        assert bool(statements) is tracked
        for statement in statements:
            assert json.dumps(statement["Resource"]).endswith(':mlflow-tracking-server/fmops-risk"}'), statement
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/fmops:team": "risk"}}
            assert "Delete" not in json.dumps(statement["Action"])


def _fake_mlflow(calls: list) -> dict[str, types.ModuleType]:
    mlflow = types.ModuleType("mlflow")

    class Run:
        info = types.SimpleNamespace(run_id="run-1")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            calls.append(("end_run",))

    mlflow.set_tracking_uri = lambda uri: calls.append(("set_tracking_uri", uri))
    mlflow.set_experiment = lambda name: calls.append(("set_experiment", name))
    mlflow.start_run = lambda run_name=None: calls.append(("start_run", run_name)) or Run()
    mlflow.log_params = lambda params: calls.append(("log_params", params))
    mlflow.log_metrics = lambda metrics: calls.append(("log_metrics", metrics))
    return {"mlflow": mlflow, "sagemaker_mlflow": types.ModuleType("sagemaker_mlflow")}


@pytest.mark.parametrize("template", ["classical_ml", "fm_finetuning", "fm_evaluation"])
def test_seed_tracking_logs_to_the_arn_in_ssm_or_says_why_not(template, monkeypatch, capsys):
    from importlib import util

    from moto import mock_aws

    spec = util.spec_from_file_location(f"tracking_{template}", f"templates/{template}/seed/tracking.py")
    tracking = util.module_from_spec(spec)
    spec.loader.exec_module(tracking)
    monkeypatch.delenv("MLFLOW_TRACKING_SERVER_PARAMETER", raising=False)
    assert tracking.log_run({"a": 1}, {"auc": 0.9}) is None
    assert "no tracking server" in capsys.readouterr().out
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_PARAMETER", "/fmops/mlflow/risk/tracking-server-arn")
    monkeypatch.setitem(sys.modules, "mlflow", None)
    assert tracking.log_run({"a": 1}, {"auc": 0.9}) is None
    assert "not in this image" in capsys.readouterr().out
    calls: list = []
    for name, module in _fake_mlflow(calls).items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "risk-churn")
    monkeypatch.setenv("MLFLOW_RUN_NAME", "execution-1")
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        import boto3

        boto3.client("ssm").put_parameter(Name="/fmops/mlflow/risk/tracking-server-arn", Value=SERVER_ARN, Type="String")
        assert tracking.log_run({"a": 1}, {"auc": 0.9}) == "run-1"
    assert calls == [("set_tracking_uri", SERVER_ARN), ("set_experiment", "risk-churn"), ("start_run", "execution-1"),
                     ("log_params", {"a": 1}), ("log_metrics", {"auc": 0.9}), ("end_run",)]


def test_the_seed_bundles_carry_one_tracking_helper():
    """Each template's seed folder is its own bundle (zipped alone), so each carries the helper: the
    copies must stay the same file."""
    from pathlib import Path

    copies = {Path(f"templates/{t}/seed/tracking.py").read_text() for t in ("classical_ml", "fm_finetuning", "fm_evaluation")}
    assert len(copies) == 1
