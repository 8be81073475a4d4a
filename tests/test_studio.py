"""SageMaker Studio in VpcOnly mode and the package/image mirror, on the synthesized templates.

The app-level tests read the session's shared assemblies (``default_templates``,
``single_templates``); the construct-level tests build one small stack each, without the
compliance packs, to check what a caller can get wrong.
"""

from __future__ import annotations

import base64
import configparser
import json
import os
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from fmops_constructs.package_mirror import PackageMirror, PackageMirrorRef
from fmops_constructs.studio import StudioDomain, distribution_image_arns, pip_mirror_script
from infra.compliance.internet_free import check_template
from infra.compliance.internet_free.organisation import Organisation
from infra.config import ConfigError, load_config
from infra.plan import build_plan
from infra.personas import Cell, load_matrix
from infra.naming import studio_role_name
from infra.plan.launchers import studio_personas
from infra.assembly import read_manifest
from tests.conftest import REPO, resources, stack_artifacts

DEFAULT = load_config()
SINGLE = load_config(REPO / "config" / "single-account.yaml")
TOOLING = "111111111111"
ORG_ID = DEFAULT.organisation.aws_organization_id


def studio_teams(config, account):
    """The plan's Studio teams of ``account`` (config sections)."""
    return [team.team for team in build_plan(config).account(account.name).studio_teams]


STUDIO_STACKS = [f"fmops-{account.name}-studio" for account in DEFAULT.accounts if studio_teams(DEFAULT, account)]
PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def one(template: dict, resource_type: str) -> tuple[str, dict]:
    [(logical_id, resource)] = resources(template, resource_type).items()
    return logical_id, resource


def props(template: dict, resource_type: str) -> dict:
    return one(template, resource_type)[1]["Properties"]


def lifecycle_script(template: dict) -> str:
    return base64.b64decode(props(template, "AWS::SageMaker::StudioLifecycleConfig")["StudioLifecycleConfigContent"]).decode()


def statements(template: dict) -> list[dict]:
    """Every statement of every identity policy (managed or inline) of the template."""
    found = []
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in resources(template, kind).values():
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


# -- which stacks exist ----------------------------------------------------------------------


def test_a_studio_stack_per_workload_account_with_studio_teams(default_templates, single_templates):
    assert len(STUDIO_STACKS) == 6
    assert set(STUDIO_STACKS) <= default_templates.keys()
    assert "fmops-tooling-studio" not in default_templates, "the governance account has no Studio team"
    assert {"fmops-sandbox-studio", "fmops-sandbox-packages"} <= single_templates.keys()
    packages = [name for name in default_templates if name.endswith("-packages")]
    assert packages == ["fmops-tooling-packages"], "one mirror, in the governance account"


def _stack_dependencies(assembly, stack: str) -> set[str]:
    """Names of the stacks ``stack`` depends on, in its own (possibly nested) assembly."""
    folder, artifact = stack_artifacts(assembly)[stack]
    names = {artifact_id: a["properties"].get("stackName", artifact_id)
             for artifact_id, a in read_manifest(folder)["artifacts"].items()
             if a["type"] == "aws:cloudformation:stack"}
    return {names[d] for d in artifact.get("dependencies", []) if d in names}


def test_studio_stack_deploys_after_its_team_stacks_and_the_mirror(default_assembly, single_assembly):
    """After the team stacks (their boundaries) always; after the mirror in single-account mode. In
    mode organisation the mirror is in the governance account, deployed by the platform team before
    any pipeline runs, and no dependency can cross a pipeline stage."""
    for config, assembly, mirror in ((DEFAULT, default_assembly, set()),
                                     (SINGLE, single_assembly, {"fmops-sandbox-packages"})):
        for account in config.accounts:
            if not studio_teams(config, account):
                continue
            expected = {f"fmops-{account.name}-{team.name}" for team in studio_teams(config, account)}
            assert expected | mirror <= _stack_dependencies(assembly, f"fmops-{account.name}-studio"), account.name


# -- the domain ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STUDIO_STACKS)
def test_domain_is_vpc_only_with_iam_auth_and_its_own_retained_key(default_templates, stack):
    template = default_templates[stack]
    _, domain = one(template, "AWS::SageMaker::Domain")
    spec = domain["Properties"]
    assert spec["AppNetworkAccessType"] == "VpcOnly"
    assert spec["AuthMode"] == "IAM"
    key_id = spec["KmsKeyId"]["Fn::GetAtt"][0]
    key = template["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key" and key["DeletionPolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert domain["DeletionPolicy"] == domain["UpdateReplacePolicy"] == "Retain"
    account = DEFAULT.account(stack.removeprefix("fmops-").removesuffix("-studio"))
    subnets = spec["SubnetIds"]
    assert len(subnets) == account.network.az_count
    assert all("isolatedSubnet" in subnet["Fn::ImportValue"] for subnet in subnets)
    assert spec["TagPropagation"] == "ENABLED"


def _peer(rule: dict, own: dict) -> str:
    for key in ("SourceSecurityGroupId", "DestinationSecurityGroupId"):
        if key in rule:
            return "self" if rule[key] == own else json.dumps(rule[key])
    return rule.get("CidrIp") or rule.get("CidrIpv6") or rule.get("DestinationPrefixListId")


def domain_security_group_rules(template: dict) -> set[tuple]:
    settings = props(template, "AWS::SageMaker::Domain")["DefaultUserSettings"]
    [group_ref] = settings["SecurityGroups"]
    group_id = group_ref["Fn::GetAtt"][0]
    group = template["Resources"][group_id]["Properties"]
    rules = {("ingress", _peer(r, group_ref), r["IpProtocol"], r["FromPort"], r["ToPort"])
             for r in group.get("SecurityGroupIngress", [])}
    rules |= {("egress", _peer(r, group_ref), r["IpProtocol"], r["FromPort"], r["ToPort"])
              for r in group.get("SecurityGroupEgress", [])}
    for direction, kind in (("ingress", "AWS::EC2::SecurityGroupIngress"), ("egress", "AWS::EC2::SecurityGroupEgress")):
        for rule in resources(template, kind).values():
            if rule["Properties"]["GroupId"] == group_ref:
                p = rule["Properties"]
                rules.add((direction, _peer(p, group_ref), p["IpProtocol"], p["FromPort"], p["ToPort"]))
    return rules


@pytest.mark.parametrize("stack", STUDIO_STACKS)
def test_security_group_allows_nfs_and_studio_ports_within_itself_and_https_to_endpoints(default_templates, stack):
    # HTTPS to any address: the S3 gateway endpoint answers on S3's public ranges, and without an
    # internet route (checked by the internet-free rules) nothing else is reachable.
    assert domain_security_group_rules(default_templates[stack]) == {
        ("ingress", "self", "tcp", 2049, 2049),
        ("ingress", "self", "tcp", 8192, 65535),
        ("egress", "self", "tcp", 2049, 2049),
        ("egress", "self", "tcp", 8192, 65535),
        ("egress", "0.0.0.0/0", "tcp", 443, 443),
    }


def test_no_studio_or_mirror_rule_names_an_internet_address(default_templates, single_templates):
    templates = {**default_templates, **single_templates}
    for name in [*STUDIO_STACKS, "fmops-sandbox-studio"]:
        for rule in domain_security_group_rules(templates[name]):
            assert rule[1] not in ("0.0.0.0/0", "::/0") or rule[:5] == ("egress", "0.0.0.0/0", "tcp", 443, 443), rule
    for name in [*STUDIO_STACKS, "fmops-tooling-packages", "fmops-sandbox-studio", "fmops-sandbox-packages"]:
        inside = Organisation.of(SINGLE if name.startswith("fmops-sandbox") else DEFAULT)
        assert check_template(templates[name], name, inside) == [], name


def test_jupyterlab_shuts_down_when_idle_and_starts_on_a_sagemaker_image(default_templates):
    settings = props(default_templates["fmops-risk-dev-studio"], "AWS::SageMaker::Domain")["DefaultUserSettings"]
    lab = settings["JupyterLabAppSettings"]
    assert lab["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 60,
        "MinIdleTimeoutInMinutes": 60, "MaxIdleTimeoutInMinutes": 240,
    }
    assert lab["DefaultResourceSpec"]["SageMakerImageArn"] == distribution_image_arns("eu-west-1")[0]
    lifecycle_id, _ = one(default_templates["fmops-risk-dev-studio"], "AWS::SageMaker::StudioLifecycleConfig")
    arn = {"Fn::GetAtt": [lifecycle_id, "StudioLifecycleConfigArn"]}
    assert lab["DefaultResourceSpec"]["LifecycleConfigArn"] == arn and lab["LifecycleConfigArns"] == [arn]
    assert settings["SharingSettings"] == {"NotebookOutputOption": "Disabled"}
    assert settings["StudioWebPortal"] == "ENABLED"
    assert "JupyterLab" not in settings["StudioWebPortalSettings"]["HiddenAppTypes"]


def test_studio_log_group_is_encrypted_retained_and_expires(default_templates):
    template = default_templates["fmops-genai-prod-studio"]
    _, group = one(template, "AWS::Logs::LogGroup")
    assert group["Properties"]["LogGroupName"] == "/aws/sagemaker/studio"
    assert group["Properties"]["RetentionInDays"] == DEFAULT.organisation.log_retention_days
    assert "KmsKeyId" in group["Properties"] and group["DeletionPolicy"] == "Retain"


# -- the lifecycle configuration -------------------------------------------------------------


def test_lifecycle_config_points_pip_at_the_organisation_mirror_and_sets_regional_sts(default_templates):
    template = default_templates["fmops-genai-dev-studio"]
    config = props(template, "AWS::SageMaker::StudioLifecycleConfig")
    assert config["StudioLifecycleConfigAppType"] == "JupyterLab"
    assert config["StudioLifecycleConfigName"].startswith("fmops-genai-dev-pip-")
    assert len(config["StudioLifecycleConfigName"]) <= 63
    script = lifecycle_script(template)
    assert script.startswith("#!/bin/bash\n")
    assert "export AWS_STS_REGIONAL_ENDPOINTS=regional" in script
    assert "aws configure set sts_regional_endpoints regional" in script
    assert f"aws codeartifact get-authorization-token --domain fmops \\\n        --domain-owner {TOOLING}" in script
    assert f"@fmops-{TOOLING}.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi/simple/" in script
    assert "pip.conf" in script and "uv.toml" in script


def test_single_account_lifecycle_config_uses_the_accounts_own_mirror(single_templates):
    script = lifecycle_script(single_templates["fmops-sandbox-studio"])
    assert "--domain-owner 123456789012" in script
    assert "@fmops-123456789012.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi/simple/" in script


FAKE_AWS = """#!/bin/bash
echo "$*" >> "$AWS_LOG"
case "$1 $2" in
  "codeartifact get-authorization-token") [ -n "${FAIL_TOKEN:-}" ] && exit 255; echo TOKEN123 ;;
  "configure set") mkdir -p "$HOME/.aws"; echo "$3 = $4" >> "$HOME/.aws/config" ;;
esac
"""


def run_script(tmp_path: Path, script: str, **env: str) -> subprocess.CompletedProcess:
    """Run a lifecycle script as Studio would, with a fake ``aws`` and no network at all."""
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    (tmp_path / "lcc.sh").write_text(script)
    return subprocess.run(
        ["bash", str(tmp_path / "lcc.sh")], capture_output=True, text=True, check=False,
        env={"HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", "AWS_LOG": str(tmp_path / "aws.log"), **env},
    )


def test_lifecycle_script_configures_pip_uv_and_sts_offline(tmp_path, default_templates):
    script = lifecycle_script(default_templates["fmops-risk-prod-studio"])
    for _ in range(2):  # every app start runs it again
        result = run_script(tmp_path, script)
        assert result.returncode == 0, result.stderr
    home = tmp_path / "home"
    index = f"https://aws:TOKEN123@fmops-{TOOLING}.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi/simple/"
    pip = configparser.ConfigParser()
    pip.read(home / ".config/pip/pip.conf")
    assert pip["global"]["index-url"] == index
    assert tomllib.loads((home / ".config/uv/uv.toml").read_text()) == {"index": [{"url": index, "default": True}]}
    for secret in (".config/pip/pip.conf", ".config/uv/uv.toml"):
        assert stat.S_IMODE(os.stat(home / secret).st_mode) == 0o600, "the token must not be world-readable"
    assert (home / ".bashrc").read_text().count("export AWS_STS_REGIONAL_ENDPOINTS=regional") == 1
    assert "sts_regional_endpoints = regional" in (home / ".aws/config").read_text()
    token_call = next(line for line in (tmp_path / "aws.log").read_text().splitlines() if "get-authorization-token" in line)
    assert f"--domain fmops --domain-owner {TOOLING} --duration-seconds 43200" in token_call


def test_lifecycle_script_lets_the_app_start_when_the_mirror_is_unreachable(tmp_path, default_templates):
    result = run_script(tmp_path, lifecycle_script(default_templates["fmops-risk-dev-studio"]), FAIL_TOKEN="1")
    assert result.returncode == 0
    assert "package mirror fmops is unreachable" in result.stderr
    assert not (tmp_path / "home/.config/pip/pip.conf").exists()
    assert "sts_regional_endpoints = regional" in (tmp_path / "home/.aws/config").read_text()


# -- user profiles and their execution roles -------------------------------------------------


def test_studio_personas_are_the_team_personas_allowed_to_use_studio():
    matrix = load_matrix()
    personas = studio_personas()
    assert {"data-scientist", "lead-data-scientist", "ml-engineer", "fine-tuner", "genai-developer"} <= set(personas)
    assert all(matrix.personas[p].scope == "team" and matrix.cell(p, "use-studio") is Cell.ALLOW for p in personas)
    assert "genai-end-user" not in personas and "auditor" not in personas



def profiles_with_roles(template: dict) -> dict[str, dict]:
    """User profile name -> its execution role resource."""
    found = {}
    for profile in resources(template, "AWS::SageMaker::UserProfile").values():
        role_id = profile["Properties"]["UserSettings"]["ExecutionRole"]["Fn::GetAtt"][0]
        found[profile["Properties"]["UserProfileName"]] = template["Resources"][role_id]
    return found


def tags(resource: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}


@pytest.mark.parametrize("stack", STUDIO_STACKS)
def test_a_profile_per_team_and_persona_with_its_own_bounded_role(default_templates, stack):
    template = default_templates[stack]
    account = DEFAULT.account(stack.removeprefix("fmops-").removesuffix("-studio"))
    teams = [team.name for team in studio_teams(DEFAULT, account)]
    profiles = profiles_with_roles(template)
    assert set(profiles) == {f"{team}-{persona}" for team in teams for persona in studio_personas()}
    roles = [json.dumps(role, sort_keys=True) for role in profiles.values()]
    assert len(set(roles)) == len(roles), "every profile has a role of its own"
    for profile in resources(template, "AWS::SageMaker::UserProfile").values():
        team, persona = tags(profile)["fmops:team"], tags(profile)["fmops:persona"]
        assert profile["Properties"]["UserProfileName"] == f"{team}-{persona}"
        role = profiles[f"{team}-{persona}"]
        assert tags(role)["fmops:team"] == team and tags(role)["fmops:persona"] == persona
        assert role["Properties"]["PermissionsBoundary"] == f"arn:aws:iam::{account.id}:policy/fmops-{team}-boundary"
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow",
                          "Principal": {"Service": "sagemaker.amazonaws.com"}}]


@pytest.mark.parametrize("stack", STUDIO_STACKS)
def test_execution_roles_have_deterministic_names(default_templates, stack):
    """``<org>-<team>-<persona>-studio``: the catalog stacks name them in their portfolio associations."""
    for role in profiles_with_roles(default_templates[stack]).values():
        team, persona = tags(role)["fmops:team"], tags(role)["fmops:persona"]
        assert role["Properties"]["RoleName"] == studio_role_name("fmops", team, persona)


@pytest.mark.parametrize("stack", [*STUDIO_STACKS, "fmops-tooling-packages"])
def test_no_sagemaker_full_access_and_no_star_on_star(default_templates, stack):
    template = default_templates[stack]
    for role in resources(template, "AWS::IAM::Role").values():
        assert not any("AmazonSageMakerFullAccess" in json.dumps(arn) for arn in role["Properties"].get("ManagedPolicyArns", []))
    allows = [s for s in statements(template) if s["Effect"] == "Allow"]
    assert allows
    for statement in allows:
        actions = as_list(statement["Action"])
        assert not any(action == "*" or action.endswith(":*") for action in actions), statement
        assert "NotAction" not in statement and "NotResource" not in statement


def policy_of(template: dict, profile_name: str) -> list[dict]:
    """The statements of the Studio policy attached to a profile's execution role (launchers' roles
    also have the project-launch policy of the catalog work)."""
    profile = next(p for p in resources(template, "AWS::SageMaker::UserProfile").values()
                   if p["Properties"]["UserProfileName"] == profile_name)
    role_id = profile["Properties"]["UserSettings"]["ExecutionRole"]["Fn::GetAtt"][0]
    [policy] = [p for k, p in resources(template, "AWS::IAM::ManagedPolicy").items()
                if {"Ref": role_id} in p["Properties"]["Roles"] and "ProjectLaunch" not in k]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def by_sid(statements_: list[dict]) -> dict[str, dict]:
    return {s["Sid"]: s for s in statements_}


def test_execution_role_runs_only_allowed_images_in_its_own_private_spaces(default_templates):
    template = default_templates["fmops-genai-dev-studio"]
    policy = by_sid(policy_of(template, "genai-fine-tuner"))
    allowed = [*distribution_image_arns("eu-west-1"), "arn:aws:sagemaker:eu-west-1:333333333331:image/fmops-*"]
    create_app = policy["JupyterLabOnAllowedImages"]
    assert create_app["Action"] == "sagemaker:CreateApp"
    assert create_app["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:app/*/*/JupyterLab/*"}
    assert create_app["Condition"]["ForAllValues:ArnLike"] == {"sagemaker:ImageArns": allowed}
    assert create_app["Condition"]["Null"] == {"sagemaker:ImageArns": "false"}, "an app must name its image"
    deny = policy["DenyOtherImages"]
    assert deny["Effect"] == "Deny" and deny["Resource"] == "*"
    assert deny["Action"] == ["sagemaker:CreateApp", "sagemaker:CreateSpace", "sagemaker:UpdateSpace"]
    assert deny["Condition"] == {"ForAnyValue:ArnNotLike": {"sagemaker:ImageArns": allowed}}
    no_image = policy["DenyAppsWithoutImage"]
    assert no_image["Effect"] == "Deny" and no_image["Condition"] == {"Null": {"sagemaker:ImageArns": "true"}}
    for sid in ("OwnPrivateSpaces", "JupyterLabOnAllowedImages"):
        condition = policy[sid]["Condition"]
        assert condition["StringEquals"] == {"sagemaker:SpaceSharingType": "Private"}
        owner = condition["ArnEquals"]["sagemaker:OwnerUserProfileArn"]["Fn::Join"][1]
        assert owner[-1] == "/genai-fine-tuner", "a role acts only for its own profile"
    assert policy["StopOwnApps"]["Condition"]["ArnEquals"]["sagemaker:OwnerUserProfileArn"]["Fn::Join"][1][-1] \
        == "/genai-fine-tuner"
    assert policy["TagOnCreate"]["Condition"] == {"Null": {"sagemaker:TaggingAction": "false"}}


def test_execution_role_uses_team_keys_by_tag_and_reads_packages_from_the_mirror(default_templates):
    policy = by_sid(policy_of(default_templates["fmops-risk-preprod-studio"], "risk-data-engineer"))
    team_keys = policy["TeamKeysByTag"]
    assert team_keys["Condition"] == {"StringEquals": {
        "aws:ResourceTag/fmops:team": "${aws:PrincipalTag/fmops:team}",
        "kms:ViaService": [{"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"},
                           {"Fn::Sub": "sagemaker.${AWS::Region}.amazonaws.com"}]}}
    assert "kms:CreateGrant" not in team_keys["Action"] and "kms:ScheduleKeyDeletion" not in team_keys["Action"]
    assert policy["PackageMirrorToken"]["Resource"] == f"arn:aws:codeartifact:eu-west-1:{TOOLING}:domain/fmops"
    assert policy["PackageMirrorRead"] == {
        "Action": "codeartifact:ReadFromRepository", "Effect": "Allow", "Sid": "PackageMirrorRead",
        "Resource": f"arn:aws:codeartifact:eu-west-1:{TOOLING}:repository/fmops/pypi"}
    bearer = policy["PackageMirrorBearerToken"]
    assert bearer["Action"] == "sts:GetServiceBearerToken"
    assert bearer["Condition"] == {"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}
    assert not any(a.startswith(("codeartifact:Publish", "codeartifact:Put", "codeartifact:Delete"))
                   for s in policy.values() for a in as_list(s["Action"]))


def test_domain_default_execution_role_grants_nothing(default_templates):
    template = default_templates["fmops-risk-dev-studio"]
    role_id = props(template, "AWS::SageMaker::Domain")["DefaultUserSettings"]["ExecutionRole"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    attached = [p for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") for p in resources(template, kind).values()
                if {"Ref": role_id} in p["Properties"].get("Roles", [])]
    assert attached == []


# -- the package and image mirror ------------------------------------------------------------


def org_condition(statement: dict) -> None:
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}


def test_codeartifact_mirrors_public_pypi_for_the_organisation(default_templates):
    template = default_templates["fmops-tooling-packages"]
    domain_id, domain = one(template, "AWS::CodeArtifact::Domain")
    assert domain["Properties"]["DomainName"] == "fmops"
    key = template["Resources"][domain["Properties"]["EncryptionKey"]["Fn::GetAtt"][0]]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    [token] = domain["Properties"]["PermissionsPolicyDocument"]["Statement"]
    assert token["Action"] == "codeartifact:GetAuthorizationToken"
    org_condition(token)
    repositories = {r["Properties"]["RepositoryName"]: (logical_id, r)
                    for logical_id, r in resources(template, "AWS::CodeArtifact::Repository").items()}
    # npm too in mode organisation: the delivery pipelines' CodeBuild projects install from it.
    assert set(repositories) == {"pypi", "pypi-store", "npm", "npm-store"}
    assert repositories["npm-store"][1]["Properties"]["ExternalConnections"] == ["public:npmjs"]
    store_id, store = repositories["pypi-store"]
    assert store["Properties"]["ExternalConnections"] == ["public:pypi"]
    assert "PermissionsPolicyDocument" not in store["Properties"], "nobody reads the store directly"
    _, pypi = repositories["pypi"]
    assert pypi["Properties"]["Upstreams"] == [{"Fn::GetAtt": [store_id, "Name"]}]
    assert "ExternalConnections" not in pypi["Properties"]
    [read] = pypi["Properties"]["PermissionsPolicyDocument"]["Statement"]
    assert read["Action"] == "codeartifact:ReadFromRepository"
    org_condition(read)
    for resource in (domain, store, pypi):
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["Properties"]["DomainName"] in ("fmops", {"Fn::GetAtt": [domain_id, "Name"]})


def test_ecr_public_pull_through_cache_with_encrypted_pull_only_repositories(default_templates):
    template = default_templates["fmops-tooling-packages"]
    rule = props(template, "AWS::ECR::PullThroughCacheRule")
    assert rule == {"EcrRepositoryPrefix": "ecr-public", "UpstreamRegistry": "ecr-public",
                    "UpstreamRegistryUrl": "public.ecr.aws"}, "ECR Public needs no credentials"
    creation = props(template, "AWS::ECR::RepositoryCreationTemplate")
    assert creation["Prefix"] == "ecr-public" and creation["AppliedFor"] == ["PULL_THROUGH_CACHE"]
    assert creation["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    [pull] = json.loads(creation["RepositoryPolicy"])["Statement"]
    assert pull["Action"] == PULL and "Resource" not in pull
    org_condition(pull)
    role = template["Resources"][creation["CustomRoleArn"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecr.amazonaws.com"}
    [fill] = props(template, "AWS::ECR::RegistryPolicy")["PolicyText"]["Statement"]
    assert fill["Action"] == ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    assert fill["Resource"] == f"arn:aws:ecr:eu-west-1:{TOOLING}:repository/ecr-public/*"
    org_condition(fill)


def test_private_image_repositories_are_scanned_immutable_encrypted_and_pull_only(default_templates):
    template = default_templates["fmops-tooling-packages"]
    repositories = {r["Properties"]["RepositoryName"]: r for r in resources(template, "AWS::ECR::Repository").values()}
    assert "fmops/tgi-inference" in repositories, "the serving image the config's FM endpoints use"
    for repository in repositories.values():
        spec = repository["Properties"]
        assert spec["ImageTagMutability"] == "IMMUTABLE"
        assert spec["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert spec["EncryptionConfiguration"]["EncryptionType"] == "KMS"
        assert repository["DeletionPolicy"] == "Retain"
        [pull] = spec["RepositoryPolicyText"]["Statement"]
        assert pull["Action"] == PULL
        org_condition(pull)


def test_single_account_mirror_admits_only_its_own_account(single_templates):
    template = single_templates["fmops-sandbox-packages"]
    [token] = props(template, "AWS::CodeArtifact::Domain")["PermissionsPolicyDocument"]["Statement"]
    assert token["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"} and "Condition" not in token


def test_organisation_id_is_refused_in_single_account_mode(tmp_path):
    text = (REPO / "config" / "single-account.yaml").read_text().replace(
        "  mode: single-account\n", "  mode: single-account\n  aws_organization_id: o-exampleorg01\n")
    path = tmp_path / "single.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="organisation.aws_organization_id: aws_organization_id is for mode organisation"):
        load_config(path)


# -- the constructs alone --------------------------------------------------------------------

MIRROR = PackageMirrorRef(account="111111111111", region="eu-west-1", domain_name="acme", repository_name="pypi",
                          image_prefix="acme")


def stack(account: str = "111111111111") -> Stack:
    return Stack(App(), "Test", env=Environment(account=account, region="eu-west-1"))


def test_mirror_refuses_an_account_that_is_not_its_own():
    with pytest.raises(ValueError, match="belongs in 111111111111/eu-west-1"):
        PackageMirror(stack("222222222222"), "Mirror", mirror=MIRROR, consumer_account_ids=["222222222222"])


@pytest.mark.parametrize("consumers", [{}, {"organization_id": "o-exampleorg01", "consumer_account_ids": ["1" * 12]}])
def test_mirror_needs_exactly_one_kind_of_consumer(consumers):
    with pytest.raises(ValueError, match="exactly one of the two"):
        PackageMirror(stack(), "Mirror", mirror=MIRROR, **consumers)


@pytest.mark.parametrize("name", ["other/serving", "acme/Serving", "acme"])
def test_mirror_image_repositories_stay_in_its_namespace(name):
    with pytest.raises(ValueError, match="under acme/"):
        PackageMirror(stack(), "Mirror", mirror=MIRROR, organization_id="o-exampleorg01", image_repositories=[name])


def test_mirror_grants_let_any_role_pull_and_install_without_wider_rights():
    scope = stack("333333333333")
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    MIRROR.grant_pull_images(role)
    MIRROR.grant_read_packages(role)
    [policy] = Template.from_stack(scope).find_resources("AWS::IAM::Policy").values()
    granted = {(json.dumps(s["Action"]), json.dumps(s["Resource"])) for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert granted == {
        ('"ecr:GetAuthorizationToken"', '"*"'),
        (json.dumps(PULL), json.dumps(["arn:aws:ecr:eu-west-1:111111111111:repository/acme/*",
                                       "arn:aws:ecr:eu-west-1:111111111111:repository/ecr-public/*"])),
        ('["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]',
         '"arn:aws:ecr:eu-west-1:111111111111:repository/ecr-public/*"'),
        ('"codeartifact:GetAuthorizationToken"', '"arn:aws:codeartifact:eu-west-1:111111111111:domain/acme"'),
        ('"sts:GetServiceBearerToken"', '"*"'),
        ('"codeartifact:ReadFromRepository"', '"arn:aws:codeartifact:eu-west-1:111111111111:repository/acme/pypi"'),
    }


def studio(scope: Stack, mirror: PackageMirrorRef = MIRROR, **options) -> StudioDomain:
    vpc = ec2.Vpc.from_vpc_attributes(
        scope, f"Vpc{len(scope.node.children)}", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.9.0.0/20",
        availability_zones=["eu-west-1a", "eu-west-1b"], isolated_subnet_ids=["subnet-01234567", "subnet-89abcdef"])
    return StudioDomain(scope, f"Studio{len(scope.node.children)}", domain_name="acme-dev", vpc=vpc,
                        subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED), vpc_cidr="10.9.0.0/20",
                        package_mirror=mirror, custom_image_prefix="acme", log_retention_days=30, **options)


@pytest.mark.parametrize(("idle", "maximum"), [(30, 240), (300, 240)])
def test_idle_timeout_must_be_within_the_service_minimum_and_the_maximum(idle, maximum):
    from aws_cdk import Duration

    with pytest.raises(ValueError, match="idle_timeout"):
        studio(stack(), idle_timeout=Duration.minutes(idle), max_idle_timeout=Duration.minutes(maximum))


def test_unknown_region_has_no_sagemaker_images():
    with pytest.raises(ValueError, match="no SageMaker Distribution image account known for region 'xx-north-9'"):
        distribution_image_arns("xx-north-9")


def lifecycle_names(scope: Stack) -> list[str]:
    configs = Template.from_stack(scope).find_resources("AWS::SageMaker::StudioLifecycleConfig").values()
    return [c["Properties"]["StudioLifecycleConfigName"] for c in configs]


def test_lifecycle_config_name_changes_with_content_and_tags_only():
    """A replacement needs a new name: the name follows the script and the tags, nothing else."""
    same, other_mirror, tagged = stack(), stack(), stack()
    studio(same)
    studio(same)
    studio(other_mirror, PackageMirrorRef(**{**MIRROR.__dict__, "repository_name": "pypi-approved"}))
    Tags.of(studio(tagged)).add("cost-centre", "CC-1")
    [first, second] = lifecycle_names(same)
    assert first == second and first.startswith("acme-dev-pip-")
    assert lifecycle_names(other_mirror)[0] != first
    assert lifecycle_names(tagged)[0] != first


def test_pip_mirror_script_is_valid_bash():
    result = subprocess.run(["bash", "-n"], input=pip_mirror_script(MIRROR), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_app_locates_the_mirror_from_config_alone():
    assert build_plan(DEFAULT).facts.mirror == PackageMirrorRef(account=TOOLING, region="eu-west-1", domain_name="fmops",
                                                               repository_name="pypi", image_prefix="fmops")
    assert build_plan(SINGLE).facts.mirror.account == "123456789012"


def test_studio_roles_carry_their_personas_policy(default_templates):
    """In Studio a person works as the profile's execution role: it carries the persona's own
    policy (the access-matrix row, by name from the team stack), besides the Studio permissions."""
    template = default_templates["fmops-risk-dev-studio"]
    checked = 0
    for role in (r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"):
        name = role.get("RoleName", "")
        if not name.startswith("fmops-risk-") or not name.endswith("-studio"):
            continue
        persona = name[len("fmops-risk-"):-len("-studio")]
        arns = json.dumps(role.get("ManagedPolicyArns", []))
        assert f":policy/fmops-risk-{persona}\"" in arns, (name, arns)
        checked += 1
    assert checked >= 5


def test_launchers_studio_roles_get_the_catalog_end_user_policy(default_templates):
    """Launchers run their projects' pipelines from Studio: the team's catalog stack attaches its
    end-user policy to their Studio execution roles too (by name), and deploys after Studio."""
    from infra.naming import studio_role_name
    from infra.plan.launchers import launcher_personas, studio_launchers
    from infra.config import DEFAULT_CONFIG, load_config

    team = next(t for t in load_config(DEFAULT_CONFIG).teams if t.name == "genai")
    template = default_templates["fmops-genai-dev-genai-catalog"]
    [policy] = [r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::IAM::ManagedPolicy"
                and r["Properties"].get("ManagedPolicyName") == "fmops-genai-catalog-end-user"]
    expected = {f"fmops-genai-{p}" for p in launcher_personas(team)}
    expected |= {studio_role_name("fmops", "genai", p) for p in studio_launchers(team)}
    assert set(policy["Roles"]) == expected and len(expected) > len(launcher_personas(team))
    assert "fmops-genai-data-scientist-studio" not in policy["Roles"]
