"""Multi-account delivery (mode organisation): CDK pipelines in the governance account, one per team,
deploying each workload account's Stage (dev, approval, preprod, approval, prod); the gates see the
stages' templates; the source kinds; the bootstrap commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk import Environment, Stack, Stage
from aws_cdk import aws_s3 as s3
from ruamel.yaml import YAML

from infra.app.builder import new_app
from infra.compliance.checks import add_compliance_checks
from infra.compliance.internet_free import check_paths, load_templates as load_all_templates
from infra.compliance.internet_free.organisation import Organisation
from infra.config import ConfigError, load_config
from infra.plan.delivery import pipeline_groups
from infra.tools.bootstrap import bootstrap_commands, execution_policies
from infra.cli import main as fmops
from infra.plan.endpoints import DELIVERY_ENDPOINTS, account_interface_endpoints
from infra.assembly import read_manifest
from tests.conftest import REPO, resources, stack_artifacts, synth

DEFAULT = load_config()
GOVERNANCE = "111111111111"
PIPELINES = ("fmops-risk-pipeline", "fmops-genai-pipeline")

pytestmark = pytest.mark.xdist_group("delivery")


def top_level(assembly: Path) -> dict[str, dict]:
    manifest = read_manifest(assembly)
    return {a["properties"].get("stackName", artifact_id): a for artifact_id, a in manifest["artifacts"].items()
            if a["type"] == "aws:cloudformation:stack"}


def pipeline_stages(template: dict) -> list[dict]:
    [pipeline] = resources(template, "AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]["Stages"]


def deploy_accounts(stage: dict) -> set[str]:
    """Accounts whose CDK deploy role the CloudFormation actions of a pipeline stage use."""
    return {re.search(r":iam::(\d{12}):role/cdk-hnb659fds-deploy-role-", json.dumps(action["RoleArn"]))[1]
            for action in stage["Actions"] if action["ActionTypeId"]["Provider"] == "CloudFormation"}


def imports(node: object) -> set[str]:
    """Export names a template imports (Fn::ImportValue of a literal name)."""
    if isinstance(node, dict):
        found = {node["Fn::ImportValue"]} if isinstance(node.get("Fn::ImportValue"), str) else set()
        return found.union(*(imports(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(imports(v) for v in node))
    return set()


def projects(template: dict) -> dict[str, dict]:
    return resources(template, "AWS::CodeBuild::Project")


def buildspec(assembly: Path, project: dict) -> str:
    spec = project["Properties"]["Source"]["BuildSpec"]
    return (assembly / spec).read_text() if spec.endswith(".yaml") else spec


# -- which stacks exist where -------------------------------------------------------------------

def test_governance_stacks_are_top_level_and_workload_stacks_are_stages(default_assembly):
    top = top_level(default_assembly)
    assert set(PIPELINES) | {"fmops-tooling-platform", "fmops-tooling-packages", "fmops-tooling-delivery"} == set(top)
    assert {a["environment"] for a in top.values()} == {f"aws://{GOVERNANCE}/eu-west-1"}, \
        "`cdk deploy --all` (top-level stacks only) deploys the governance account and nothing else"
    staged = {name: (folder, a) for name, (folder, a) in stack_artifacts(default_assembly).items() if name not in top}
    for account in (a for a in DEFAULT.accounts if a.role == "workload"):
        mine = {n for n, (folder, _) in staged.items() if folder.name == f"assembly-{account.name}"}
        assert f"fmops-{account.name}-platform" in mine, account.name
        assert all(n.startswith(f"fmops-{account.name}-") for n in mine), "a stage holds one account's stacks"
        assert {staged[n][1]["environment"] for n in mine} == {f"aws://{account.id}/eu-west-1"}


def test_stage_stacks_reference_nothing_outside_their_stage(default_assembly):
    """Only deterministic strings cross from the governance account into a stage: no import of
    another stack's export, no dependency outside the stage (the pipeline order replaces it)."""
    artifacts = stack_artifacts(default_assembly)
    exports = {}
    for name, (folder, artifact) in artifacts.items():
        template = json.loads((folder / artifact["properties"]["templateFile"]).read_text())
        for output in template.get("Outputs", {}).values():
            if "Export" in output:
                exports[output["Export"]["Name"]] = folder
    for name, (folder, artifact) in artifacts.items():
        for imported in imports(json.loads((folder / artifact["properties"]["templateFile"]).read_text())):
            assert exports[imported] == folder, f"{name} imports {imported} from another assembly"
        siblings = {a_id for a_id, a in read_manifest(folder)["artifacts"].items()}
        assert set(artifact.get("dependencies", [])) <= siblings, name


def test_one_pipeline_per_team_in_the_governance_account(default_templates):
    assert [g.name for g in pipeline_groups(DEFAULT)] == ["risk", "genai"]
    for name in PIPELINES:
        template = default_templates[name]
        [pipeline] = resources(template, "AWS::CodePipeline::Pipeline").values()
        assert pipeline["Properties"]["PipelineType"] == "V2"
        assert pipeline["Properties"]["RestartExecutionOnUpdate"] is True


@pytest.mark.parametrize("team", ["risk", "genai"])
def test_stages_run_dev_approval_preprod_approval_prod(default_templates, team):
    stages = pipeline_stages(default_templates[f"fmops-{team}-pipeline"])
    names = [s["Name"] for s in stages]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", f"{team}-dev", f"{team}-preprod", f"{team}-prod"]
    accounts = {a.stage: a.id for a in DEFAULT.accounts if a.name.startswith(f"{team}-")}
    for stage, environment in zip(stages[4:], ("dev", "preprod", "prod")):
        assert deploy_accounts(stage) == {accounts[environment]}, stage["Name"]
        first = min(stage["Actions"], key=lambda a: a["RunOrder"])
        approvals = [a for a in stage["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]
        if environment == "dev":
            assert not approvals
        else:
            assert approvals == [first] and first["ActionTypeId"]["Provider"] == "Manual"
            assert all(a["RunOrder"] > first["RunOrder"] for a in stage["Actions"] if a is not first)
        deployed = {a["Configuration"]["StackName"] for a in stage["Actions"] if "StackName" in a.get("Configuration", {})}
        assert f"fmops-{team}-{environment}-platform" in deployed and f"fmops-{team}-{environment}-{team}" in deployed


def test_the_pipeline_mutates_itself_first(default_assembly, default_templates):
    template = default_templates["fmops-risk-pipeline"]
    [update] = [s for s in pipeline_stages(template) if s["Name"] == "UpdatePipeline"]
    [action] = update["Actions"]
    project = template["Resources"][action["Configuration"]["ProjectName"]["Ref"]]
    spec = buildspec(default_assembly, project)
    assert "npm install -g aws-cdk@2.1148.1" in spec, "the CLI version of package.json, from the mirror"
    assert "deploy fmops-risk-pipeline --exclusively --require-approval=never" in spec, \
        "not the governance platform stack it depends on: 100 pipelines would update it at once"


def test_codebuild_runs_in_the_isolated_subnets_without_docker(default_templates):
    platform = default_templates["fmops-tooling-platform"]
    isolated = {k for k, r in resources(platform, "AWS::EC2::Subnet").items()
                if r["Properties"]["MapPublicIpOnLaunch"] is False}
    for name in PIPELINES:
        template = default_templates[name]
        found = projects(template)
        assert len(found) == 3, "synth, self-mutation and one file-asset publisher"
        for project in found.values():
            props = project["Properties"]
            assert props["Environment"].get("PrivilegedMode") in (None, False), "no Docker"
            assert props["Environment"]["Image"] == "aws/codebuild/standard:7.0"
            subnets = props["VpcConfig"]["Subnets"]
            assert len(subnets) == 2 and all("isolatedSubnet" in s["Fn::ImportValue"] for s in subnets)
            assert any(i in s["Fn::ImportValue"] for s in subnets for i in isolated)
            [group] = props["VpcConfig"]["SecurityGroupIds"]
            egress = template["Resources"][group["Fn::GetAtt"][0]]["Properties"]["SecurityGroupEgress"]
            assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress] == [("tcp", 443, 443)]
            assert props["EncryptionKey"] == {"Fn::GetAtt": [_artifact_key(template), "Arn"]}


def _artifact_key(template: dict) -> str:
    [key] = [k for k in resources(template, "AWS::KMS::Key") if k.startswith("ArtifactKey")]
    return key


def test_builds_install_from_the_organisation_mirror_only(default_assembly, default_templates):
    host = f"fmops-{GOVERNANCE}.d.codeartifact.eu-west-1.amazonaws.com"
    for project in projects(default_templates["fmops-risk-pipeline"]).values():
        spec = buildspec(default_assembly, project)
        assert f"aws codeartifact get-authorization-token --domain fmops --domain-owner {GOVERNANCE}" in spec
        assert f"@{host}/pypi/pypi/simple/" in spec and f"npm config set registry https://{host}/npm/npm/" in spec
        if "npm install -g" in spec:  # self-mutation (aws-cdk) and asset publishing (cdk-assets)
            assert spec.index("get-authorization-token") < spec.index("npm install -g"), "log in first"
        assert "registry.npmjs.org" not in spec and "pypi.org" not in spec
    synth_project = next(p for k, p in projects(default_templates["fmops-risk-pipeline"]).items() if "Synth" in k)
    spec = buildspec(default_assembly, synth_project)
    for command in (".venv/bin/pip install -q -r requirements.txt", "npm ci",
                    "npx --no-install cdk synth --quiet -c config=config/default.yaml -c pipeline_group=risk"):
        assert command in spec
    statements = [s for policy in resources(default_templates["fmops-risk-pipeline"], "AWS::IAM::Policy").values()
                  for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    reads = {s["Resource"] for s in statements if s.get("Action") == "codeartifact:ReadFromRepository"}
    assert reads == {f"arn:aws:codeartifact:eu-west-1:{GOVERNANCE}:repository/fmops/{r}" for r in ("pypi", "npm")}


def test_the_mirror_has_an_npm_upstream_for_the_pipelines(default_templates, single_templates):
    names = lambda t: {r["Properties"]["RepositoryName"] for r in resources(t, "AWS::CodeArtifact::Repository").values()}
    assert {"npm", "npm-store"} <= names(default_templates["fmops-tooling-packages"])
    assert not {"npm", "npm-store"} & names(single_templates["fmops-sandbox-packages"]), "no pipelines, no npm"


def test_governance_vpc_has_the_endpoints_the_builds_need(default_templates):
    governance = DEFAULT.account("tooling")
    chosen = account_interface_endpoints(DEFAULT, governance)
    assert set(DELIVERY_ENDPOINTS) | {"sts", "logs", "kms", "ssm"} <= set(chosen)
    services = {json.dumps(r["Properties"]["ServiceName"]) for r in
                resources(default_templates["fmops-tooling-platform"], "AWS::EC2::VPCEndpoint").values()}
    assert any("cloudformation" in s for s in services) and any(".s3" in s for s in services)
    for account in (a for a in DEFAULT.accounts if a.role == "workload"):
        assert "cloudformation" not in account_interface_endpoints(DEFAULT, account), "pipelines pay only once"
    # npm (unlike pip) downloads package assets from CodeArtifact's own bucket, through the S3 endpoint.
    assets = [s for name in ("fmops-tooling-platform", "fmops-risk-dev-platform") for s in _s3_endpoint_statements(
        default_templates[name]) if s.get("Sid") == "CodeArtifactPackageAssets"]
    assert assets == [{"Action": "s3:GetObject", "Effect": "Allow", "Principal": "*",
                       "Resource": "arn:aws:s3:::assets-438097961670-eu-west-1/*", "Sid": "CodeArtifactPackageAssets"}]


def _s3_endpoint_statements(template: dict) -> list[dict]:
    [s3] = [r for r in resources(template, "AWS::EC2::VPCEndpoint").values()
            if r["Properties"].get("VpcEndpointType", "Gateway") == "Gateway"]
    return s3["Properties"]["PolicyDocument"]["Statement"]


def test_artifacts_are_encrypted_and_reachable_only_by_the_vpc_and_the_deploy_roles(default_templates):
    template = default_templates["fmops-risk-pipeline"]
    [bucket_id] = [k for k in resources(template, "AWS::S3::Bucket")]
    bucket = template["Resources"][bucket_id]["Properties"]
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption == {"KMSMasterKeyID": {"Fn::GetAtt": [_artifact_key(template), "Arn"]}, "SSEAlgorithm": "aws:kms"}
    [policy] = resources(template, "AWS::S3::BucketPolicy").values()
    [deny] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "DenyOutsideVpcEndpoint"]
    admitted = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    roles = [a for a in admitted if isinstance(a, str)]
    assert roles == [f"arn:aws:iam::{a}:role/cdk-hnb659fds-deploy-role-{a}-eu-west-1"
                     for a in ("222222222221", "222222222222", "222222222223")]
    assert len(admitted) == 4, "and the pipeline role"
    [pipeline] = resources(template, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["Properties"]["ArtifactStore"]["EncryptionKey"]["Id"] == {"Fn::GetAtt": [_artifact_key(template), "Arn"]}


def test_s3_source_starts_the_pipeline_on_upload(default_templates):
    bucket = f"fmops-delivery-{GOVERNANCE}-eu-west-1"
    delivery = default_templates["fmops-tooling-delivery"]
    [source_bucket] = resources(delivery, "AWS::S3::Bucket").values()
    assert source_bucket["Properties"]["BucketName"] == bucket
    assert source_bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert source_bucket["Properties"]["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"]
    template = default_templates["fmops-genai-pipeline"]
    [source] = pipeline_stages(template)[0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"] == {"S3Bucket": bucket, "S3ObjectKey": "fmops-foundation.zip",
                                       "PollForSourceChanges": False}
    [rule] = resources(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["detail"] == {"bucket": {"name": [bucket]},
                                                           "object": {"key": ["fmops-foundation.zip"]}}


# -- the gates see the stages ---------------------------------------------------------------------

def test_an_unacknowledged_finding_in_a_stage_fails_the_synth(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stage = Stage(app, "wl", env=Environment(account="222222222222", region="eu-west-1"))
    s3.Bucket(Stack(stage, "Careless"), "Plain")
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "policy-validation-report.json").read_text())
    failed = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert {"AwsSolutions-S1", "HIPAA.Security-S3DefaultEncryptionKMS", "NIST.800.53.R5-S3BucketLoggingEnabled",
            "IF-S3-VPCE-ONLY", "COST-TAGS"} <= failed, failed


def test_internet_free_and_summary_read_the_stages(default_assembly):
    templates = {Path(name).parent.name for name, _ in load_all_templates([default_assembly])}
    assert {f"assembly-{a.name}" for a in DEFAULT.accounts if a.role == "workload"} <= templates
    assert not check_paths([default_assembly], Organisation.of(DEFAULT))
    from infra.tools.report import stacks_in

    names = {s.name for s in stacks_in(default_assembly)}
    assert {"fmops-risk-dev-platform", "fmops-risk-pipeline"} <= names


def test_stage_stacks_carry_the_cost_tags(default_templates):
    """Tags of the app do not cross into a Stage; each stage is tagged itself."""
    [vpc] = resources(default_templates["fmops-genai-prod-platform"], "AWS::EC2::VPC").values()
    tags = {t["Key"]: t["Value"] for t in vpc["Properties"]["Tags"]}
    assert tags["fmops:organisation"] == "fmops" and tags["fmops:cost-centre"] == "platform"
    assert tags["project"] == "fmops-foundation"


# -- groups of teams, team-less accounts and the other source kinds ----------------------------------

VARIANTS = {
    "organisation": {"name": "acme", "mode": "organisation", "region": "eu-west-1",
                     "availability_zones": ["eu-west-1a", "eu-west-1b"],
                     "delivery": {"source": {"kind": "codecommit", "repository": "fmops-foundation",
                                             "branch": "release"}}},
    "accounts": [
        {"name": "tooling", "id": "111111111111", "role": "governance", "network": {"cidr": "10.0.0.0/20", "az_count": 2}},
        {"name": "shared-dev", "id": "222222222221", "role": "workload", "stage": "dev",
         "network": {"cidr": "10.1.0.0/20", "az_count": 2}},
        {"name": "alpha-prod", "id": "222222222223", "role": "workload", "stage": "prod",
         "network": {"cidr": "10.1.16.0/20", "az_count": 2}},
        {"name": "beta-prod", "id": "333333333333", "role": "workload", "stage": "prod",
         "network": {"cidr": "10.1.32.0/20", "az_count": 2}},
        {"name": "gamma-dev", "id": "444444444441", "role": "workload", "stage": "dev",
         "network": {"cidr": "10.1.48.0/20", "az_count": 2}},
        {"name": "spare-preprod", "id": "555555555552", "role": "workload", "stage": "preprod",
         "network": {"cidr": "10.1.64.0/20", "az_count": 2}},
    ],
    "teams": [
        {"name": "alpha", "cost_centre": "CC-1", "accounts": {"dev": "shared-dev", "prod": "alpha-prod"},
         "features": ["pipelines"]},
        {"name": "gamma", "cost_centre": "CC-3", "accounts": {"dev": "gamma-dev"}, "features": ["pipelines"]},
        {"name": "beta", "cost_centre": "CC-2", "accounts": {"dev": "shared-dev", "prod": "beta-prod"},
         "features": ["pipelines"]},
    ],
}
CONNECTION = "arn:aws:codeconnections:eu-west-1:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab"


def write_config(path: Path, doc: dict) -> Path:
    with path.open("w") as handle:
        YAML().dump(doc, handle)
    return path


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("delivery-variants")
    return {"assembly": synth(load_config(write_config(folder / "org.yaml", VARIANTS)), folder / "out")}


def test_teams_sharing_an_account_share_a_pipeline_and_spare_accounts_get_the_platform_one(variants):
    config = load_config(write_config(Path(variants["assembly"]).parent / "again.yaml", VARIANTS))
    groups = pipeline_groups(config)
    assert [(g.name, [t.name for t in g.teams], [a.name for a in g.all_accounts]) for g in groups] == [
        ("alpha", ["alpha", "beta"], ["shared-dev", "alpha-prod", "beta-prod"]),
        ("gamma", ["gamma"], ["gamma-dev"]),
        ("platform", [], ["spare-preprod"]),
    ]
    templates = {name: t for name, t in _templates(variants["assembly"]).items() if name.endswith("-pipeline")}
    assert set(templates) == {"acme-alpha-pipeline", "acme-gamma-pipeline", "acme-platform-pipeline"}
    stages = pipeline_stages(templates["acme-alpha-pipeline"])
    assert [s["Name"] for s in stages][4:] == ["shared-dev", "prod"], "two prod accounts: one wave named prod"
    assert deploy_accounts(stages[5]) == {"222222222223", "333333333333"}
    assert stages[5]["Actions"][0]["ActionTypeId"]["Category"] == "Approval"
    [spare] = pipeline_stages(templates["acme-platform-pipeline"])[4:]
    assert spare["Actions"][0]["ActionTypeId"]["Category"] == "Approval", "nothing reaches preprod unapproved"


def _templates(assembly: Path) -> dict[str, dict]:
    from tests.conftest import load_templates

    return load_templates(assembly)


def test_codecommit_source(variants):
    template = _templates(variants["assembly"])["acme-gamma-pipeline"]
    [source] = pipeline_stages(template)[0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["RepositoryName"] == "fmops-foundation"
    assert source["Configuration"]["BranchName"] == "release"
    assert source["Configuration"]["PollForSourceChanges"] is False
    [rule] = resources(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["source"] == ["aws.codecommit"]
    assert "acme-tooling-delivery" not in _templates(variants["assembly"]), "no delivery bucket without source s3"


def test_codeconnections_source_records_why_it_is_accepted(tmp_path):
    doc = json.loads(json.dumps(VARIANTS))
    doc["organisation"]["delivery"]["source"] = {
        "kind": "codeconnections", "connection_arn": CONNECTION, "repository": "platform/fmops-foundation",
        "accepted_because": "Self-managed GitLab reached through a CodeConnections host in the VPC"}
    doc["accounts"], doc["teams"] = doc["accounts"][:2], [doc["teams"][0] | {"accounts": {"dev": "shared-dev"}}]
    templates = _templates(synth(load_config(write_config(tmp_path / "org.yaml", doc)), tmp_path / "out"))
    template = templates["acme-alpha-pipeline"]
    [source] = pipeline_stages(template)[0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == CONNECTION
    assert source["Configuration"]["FullRepositoryId"] == "platform/fmops-foundation"
    assert source["Configuration"]["BranchName"] == "main"
    [pipeline] = resources(template, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["Metadata"]["fmops:external-code-source"]["accepted_because"].startswith("Self-managed GitLab")


# -- config -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ({"kind": "codecommit"}, ["organisation.delivery.source.kind", "needs repository"]),
    ({"kind": "codecommit", "repository": "bad name!"}, ["delivery.source.repository", "not a CodeCommit repository name"]),
    ({"kind": "s3", "branch": "main"}, ["delivery.source.branch", "not used with kind s3", "codecommit or codeconnections"]),
    ({"kind": "codecommit", "repository": "r", "object_key": "a.zip"}, ["delivery.source.object_key", "kind s3"]),
    ({"kind": "s3", "object_key": "source.tar"}, ["delivery.source.object_key", "'source.tar'"]),
    ({"kind": "codeconnections", "connection_arn": CONNECTION, "repository": "o/r"},
     ["needs accepted_because", "internet-free"]),
    ({"kind": "codeconnections", "connection_arn": CONNECTION, "repository": "just-a-name",
      "accepted_because": "Self-managed GitLab in the VPC"}, ["delivery.source.repository", "not owner/name"]),
    ({"kind": "codeconnections", "connection_arn": CONNECTION.replace("eu-west-1", "us-east-1"), "repository": "o/r",
      "accepted_because": "Self-managed GitLab in the VPC"}, ["delivery.source.connection_arn", "us-east-1"]),
    ({"kind": "codeconnections", "connection_arn": CONNECTION.replace("111111111111", "999999999999"),
      "repository": "o/r", "accepted_because": "Self-managed GitLab in the VPC"},
     ["delivery.source.connection_arn", "governance account tooling"]),
    ({"kind": "git"}, ["delivery.source.kind", "'git'"]),
], ids=["codecommit-no-repository", "codecommit-bad-name", "branch-with-s3", "object-key-with-codecommit",
        "object-key-not-zip", "connection-not-accepted", "connection-repository-not-owner-name",
        "connection-other-region", "connection-other-account", "unknown-kind"])
def test_bad_delivery_source_names_line_field_and_fix(tmp_path, source, expected):
    doc = json.loads(json.dumps(VARIANTS))
    doc["organisation"]["delivery"]["source"] = source
    path = write_config(tmp_path / "org.yaml", doc)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:") and message.split(":")[1].isdigit(), message
    for part in expected:
        assert part in message, message


def test_delivery_is_refused_in_single_account_mode(tmp_path):
    text = (REPO / "config" / "single-account.yaml").read_text().replace(
        "  log_retention_days: 90\n", "  log_retention_days: 90\n  delivery: {source: {kind: s3}}\n")
    path = tmp_path / "single.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"single.yaml:\d+: organisation.delivery: delivery is for mode organisation"):
        load_config(path)


def test_team_name_platform_is_reserved(tmp_path):
    doc = json.loads(json.dumps(VARIANTS))
    doc["teams"][1]["name"] = "platform"
    with pytest.raises(ConfigError, match=r"teams\[1\]\(name=platform\).name: team name 'platform' is reserved"):
        load_config(write_config(tmp_path / "org.yaml", doc))


# -- bootstrap commands and execution policies -------------------------------------------------------

def test_bootstrap_commands_trust_the_governance_account(default_assembly, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    written = tmp_path / "execution-policies"
    assert fmops(["bootstrap-commands", "config/default.yaml", "--cdk-out", str(default_assembly),
                  "--write-policies", str(written)]) == 0
    out = capsys.readouterr().out
    policies = execution_policies(DEFAULT, default_assembly)
    assert sorted(p.name for p in written.iterdir()) == sorted(
        f"fmops-cdk-execution-{kind}-{n}.json" for kind, documents in policies.items()
        for n in range(1, len(documents) + 1))
    governance_arns = ",".join(f"arn:aws:iam::{GOVERNANCE}:policy/fmops-cdk-execution-governance-{n}"
                               for n in range(1, len(policies["governance"]) + 1))
    assert (f"npx --no-install cdk bootstrap aws://{GOVERNANCE}/eu-west-1 \\\n"
            f"    --cloudformation-execution-policies {governance_arns}\n") in out
    for account in (a for a in DEFAULT.accounts if a.role == "workload"):
        arns = ",".join(f"arn:aws:iam::{account.id}:policy/fmops-cdk-execution-workload-{n}"
                        for n in range(1, len(policies["workload"]) + 1))
        assert (f"npx --no-install cdk bootstrap aws://{account.id}/eu-west-1 \\\n    --trust {GOVERNANCE} "
                f"--trust-for-lookup {GOVERNANCE} \\\n    --cloudformation-execution-policies {arns}\n") in out
    assert out.count("aws iam create-policy --policy-name fmops-cdk-execution-workload-1 ") == 6
    assert "AdministratorAccess\n" not in out and "policy/AdministratorAccess" not in out
    assert "npx --no-install cdk deploy --all -c config=config/default.yaml" in out
    assert f"aws s3 cp fmops-foundation.zip s3://fmops-delivery-{GOVERNANCE}-eu-west-1/fmops-foundation.zip" in out


def test_bootstrap_commands_need_the_synthesized_app(tmp_path, capsys):
    assert fmops(["bootstrap-commands", str(REPO / "config" / "default.yaml"), "--cdk-out", str(tmp_path)]) == 2
    assert "make synth" in capsys.readouterr().err


def test_execution_policies_cover_every_resource_type_within_iam_limits(default_assembly):
    from fmops_constructs.launch_role import handler_permissions, is_iam_action
    from infra.tools.bootstrap import resource_types_by_account

    policies = execution_policies(DEFAULT, default_assembly)
    types = resource_types_by_account(default_assembly)
    for kind, documents in policies.items():
        assert all(len(json.dumps(d, separators=(",", ":"))) <= 6144 for d in documents), "IAM's policy size"
        actions = {a for d in documents for s in d["Statement"] for a in s["Action"]}
        assert not {a for a in actions if a == "*" or a.endswith(":*")}, "named actions only"
        accounts = [a.id for a in DEFAULT.accounts if (a.role == "governance") == (kind == "governance")]
        needed = {a for account in accounts for t in types[account] if t.startswith("AWS::") and t != "AWS::CDK::Metadata"
                  for a in handler_permissions(t) if is_iam_action(a)}
        assert needed <= actions, sorted(needed - actions)
    assert "codepipeline:CreatePipeline" in {a for d in policies["governance"] for s in d["Statement"] for a in s["Action"]}
    assert not {a for d in policies["workload"] for s in d["Statement"] for a in s["Action"]
                if a.startswith(("codepipeline:", "codeartifact:"))}, "workload accounts run no pipeline or mirror"


def test_single_account_deploys_with_cdk_deploy_all(single_assembly):
    single = load_config(REPO / "config" / "single-account.yaml")
    assert pipeline_groups(single) == []
    text = bootstrap_commands(single, config_path="config/single-account.yaml",
                              policies=execution_policies(single, single_assembly))
    assert "npx --no-install cdk deploy --all -c config=config/single-account.yaml" in text and "--trust" not in text
    assert "policy/fmops-cdk-execution-single-account-1" in text
