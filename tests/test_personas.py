"""The persona roles' policies, boundary and SCPs, read from the synthesized templates.

Every matrix cell is proven as a recorded workflow in ``tests/test_workflows.py``; the tests
here pin single properties (guardrail versions, the boundary's self-protection, key use through
S3, policy sizes and lint), evaluated with the project's evaluator ``infra.compliance.iam_eval``
(identity policy + boundary + SCPs, with condition keys).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import naming, personas
from infra.config import DEFAULT_CONFIG, load_config
from infra.naming import studio_role_name
from infra.plan.launchers import studio_personas
from infra.personas.scp import organisation_model_arns
from infra.personas import Cell, load_matrix
from infra.assembly import read_manifest
from tests.conftest import resources
from tests.iam import Node, Policy, local_check_authorization_full



MATRIX = load_matrix()
TEAMS = {"risk": ("risk-dev", "222222222221"), "genai": ("genai-dev", "333333333331")}
SUBNET = "subnet-0123456789abcdef0"


def _stack(templates: dict, team: str) -> dict:
    """The team's stack in its dev account; the platform personas live in genai-dev's platform stack."""
    if team == "platform":
        return templates["fmops-genai-dev-platform"]
    return templates[f"fmops-{TEAMS[team][0]}-{team}"]


# What the GenAI stack's tokens resolve to in the evaluation: its guardrail, published version 1.
GUARDRAIL_ID = "gr0team1"


def _guardrail_arn(account: str) -> str:
    return f"arn:aws:bedrock:eu-west-1:{account}:guardrail/{GUARDRAIL_ID}"


def _profile_arn(account: str, logical_id: str) -> str:
    """What a team's application inference profile resolves to (Bedrock generates its id)."""
    return f"arn:aws:bedrock:eu-west-1:{account}:application-inference-profile/{logical_id.lower()}"


def _resolve(value, account: str):
    """The CloudFormation intrinsics of a GenAI stack's policy, with the values a deployment
    gives them: the guardrail's ARN and published version 1, the key's ARN, pseudo parameters."""
    if isinstance(value, list):
        return [_resolve(v, account) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return {"GuardrailArn": _guardrail_arn(account), "Version": "1",
                "Arn": f"arn:aws:kms:eu-west-1:{account}:key/{logical_id}",
                "InferenceProfileArn": _profile_arn(account, logical_id)}[attribute]
    if "Ref" in value:
        return {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": account,
                "AWS::URLSuffix": "amazonaws.com"}[value["Ref"]]
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve(parts, account))
    return {key: _resolve(v, account) for key, v in value.items()}


def _attached_by_name(templates: list[dict], role_name: str, account: str) -> list[dict]:
    """Managed policies of other stacks (the team's GenAI stack) attached to a role by name."""
    return [{**props, "PolicyDocument": _resolve(props["PolicyDocument"], account)}
            for template in templates
            for props in (p["Properties"] for p in resources(template, "AWS::IAM::ManagedPolicy").values())
            if role_name in props.get("Roles", [])]


def _roles(template: dict, others: list[dict] = ()) -> dict[str, Node]:
    """persona name -> evaluation Node built from the template's role, its policies (those of
    ``others`` attached by role name included) and its boundary."""
    nodes = {}
    for role in resources(template, "AWS::IAM::Role").values():
        tags = {t["Key"]: t["Value"] for t in role["Properties"].get("Tags", [])}
        if "fmops:persona" not in tags:
            continue
        props = role["Properties"]
        policies = [template["Resources"][ref["Ref"]]["Properties"] for ref in props["ManagedPolicyArns"]]
        policies += _attached_by_name(list(others), props["RoleName"], _account(template))
        boundary = template["Resources"][props["PermissionsBoundary"]["Ref"]]["Properties"]
        arn = f"arn:aws:iam::{_account(template)}:role/{props['RoleName']}"
        nodes[tags["fmops:persona"]] = Node(
            arn, attached_policies=[Policy(arn, p["ManagedPolicyName"], p["PolicyDocument"]) for p in policies],
            permissions_boundary=Policy(arn, boundary["ManagedPolicyName"], boundary["PolicyDocument"]), tags=tags)
    return nodes


def _account(template: dict) -> str:
    policies = json.dumps([p["Properties"] for p in resources(template, "AWS::IAM::ManagedPolicy").values()])
    return next(s for s in policies.split(":") if s.isdigit() and len(s) == 12)


def _scps() -> list[list[Policy]]:
    """FullAWSAccess plus the two preventive SCPs, as attached to the workload OU."""
    docs = personas.scp_documents(organisation_model_arns(load_config(DEFAULT_CONFIG)))
    full_access = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    return [[Policy("arn:aws:organizations::scp/full", "FullAWSAccess", full_access)]
            + [Policy(f"arn:aws:organizations::scp/{n}", n, d) for n, d in docs.items()]]


# Team -> the model ARNs its boundary allows, read from the synthesized boundary (fixture `nodes`).
_MODEL_ARNS: dict[str, list[str]] = {}


def _all_model_arns() -> list[str]:
    return sorted({arn for arns in _MODEL_ARNS.values() for arn in arns})


def _scope(team: str) -> personas.Scope:
    """Placeholders of the matrix for a team; the platform personas are probed in genai-dev."""
    account = TEAMS.get(team, TEAMS["genai"])[1]
    models = _MODEL_ARNS.get("genai" if team == "platform" else team, [])
    return personas.Scope(org="fmops", team=team, account=account, region="eu-west-1", model_arns=tuple(models))


@pytest.fixture(scope="module")
def nodes(default_templates) -> dict[str, dict[str, Node]]:
    for team in ("risk", "genai"):
        boundary = next(p["Properties"] for p in resources(_stack(default_templates, team),
                                                              "AWS::IAM::ManagedPolicy").values()
                        if p["Properties"]["ManagedPolicyName"] == f"fmops-{team}-boundary")
        deny = next(s for s in boundary["PolicyDocument"]["Statement"] if s["Sid"] == "DenyBedrockOutsideAllowList")
        allowed = deny["NotResource"] if isinstance(deny["NotResource"], list) else [deny["NotResource"]]
        account = TEAMS[team][1]
        _MODEL_ARNS[team] = [a.replace(":*:*:inference-profile/", f":eu-west-1:{account}:inference-profile/")
                             for a in allowed if not a.endswith("/none")]
    return {team: _roles(_stack(default_templates, team), _genai_stacks(default_templates, team))
            for team in ("risk", "genai", "platform")}


def _genai_stacks(templates: dict, team: str) -> list[dict]:
    if team == "platform":
        return []
    name = f"fmops-{TEAMS[team][0]}-{team}-genai"
    return [templates[name]] if name in templates else []


def test_every_team_persona_has_a_role_per_team(nodes):
    for team in ("risk", "genai"):
        assert set(nodes[team]) == set(MATRIX.team_personas())
    assert set(nodes["platform"]) == set(MATRIX.platform_personas())


def test_one_team_cannot_touch_another_teams_data(nodes):
    genai_scope = _scope("genai")
    risk_bucket = naming.team_bucket_name("fmops", "risk", genai_scope.account, "eu-west-1")
    for persona, node in nodes["genai"].items():
        assert not local_check_authorization_full(
            node, "s3:GetObject", f"arn:aws:s3:::{risk_bucket}/curated/x.parquet", {}, None, None, _scps(), None), persona


def test_roles_cannot_create_roles_without_the_boundary_nor_remove_it(default_templates):
    """Under the team boundary no role creates roles at all; under the launch boundary (the
    catalog's launch role) only with the team boundary and under the project path. Neither
    boundary can be removed or edited from under either."""
    template = _stack(default_templates, "genai")
    documents = {p["Properties"]["ManagedPolicyName"]: p["Properties"]["PolicyDocument"]
                 for p in resources(template, "AWS::IAM::ManagedPolicy").values()}
    admin_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    boundary_arn = "arn:aws:iam::333333333331:policy/fmops-genai-boundary"
    launch_boundary_arn = "arn:aws:iam::333333333331:policy/fmops-genai-launch-boundary"
    project_role = f"arn:aws:iam::333333333331:role{naming.project_role_path('fmops', 'genai')}new"
    check = local_check_authorization_full
    for name in ("fmops-genai-boundary", "fmops-genai-launch-boundary"):
        arn = "arn:aws:iam::333333333331:role/fmops-genai-widened"
        node = Node(arn, attached_policies=[Policy(arn, "admin", admin_policy)],
                    permissions_boundary=Policy(arn, "boundary", documents[name]))
        with_boundary = {"iam:PermissionsBoundary": boundary_arn}
        launch = name == "fmops-genai-launch-boundary"
        assert check(node, "iam:CreateRole", project_role, with_boundary, None, None, None, None) is launch
        assert not check(node, "iam:CreateRole", "arn:aws:iam::333333333331:role/fmops-genai-new", with_boundary,
                         None, None, None, None)
        assert not check(node, "iam:CreateRole", project_role, {}, None, None, None, None)
        for other in ("arn:aws:iam::aws:policy/AdministratorAccess", launch_boundary_arn):
            assert not check(node, "iam:CreateRole", project_role, {"iam:PermissionsBoundary": other},
                             None, None, None, None), (name, other)
        assert not check(node, "iam:DeleteRolePermissionsBoundary", project_role, {}, None, None, None, None)
        for policy in (boundary_arn, launch_boundary_arn):
            for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
                assert not check(node, action, policy, {}, None, None, None, None), (name, action, policy)


# Named roles without a permission boundary, each with why: the boundary caps what teams and
# projects can do and create; these are platform service roles no person or team can assume.
UNBOUNDED_SERVICE_ROLES = {
    "fmops-config-recorder": ("config.amazonaws.com", "AWS Config's recorder holds AWS_ConfigRole, which reads the "
                              "configuration of every service; no team ceiling can hold it, and only Config assumes it"),
}


def test_persona_roles_least_privilege(default_templates):
    for name, template in default_templates.items():
        for role in resources(template, "AWS::IAM::Role").values():
            props = role["Properties"]
            if "RoleName" not in props:
                continue
            if props["RoleName"] in UNBOUNDED_SERVICE_ROLES:
                service, _ = UNBOUNDED_SERVICE_ROLES[props["RoleName"]]
                principals = [s["Principal"] for s in props["AssumeRolePolicyDocument"]["Statement"]]
                assert principals == [{"Service": service}], (props["RoleName"], principals)
                continue
            assert "PermissionsBoundary" in props, props["RoleName"]
            assert "FullAccess" not in json.dumps(props.get("ManagedPolicyArns", [])), props["RoleName"]
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    assert not (statement["Action"] in ("*", ["*"]) and statement.get("Resource") in ("*", ["*"]))


def test_trust_requires_mfa_without_a_configured_principal(default_templates):
    role = next(r for r in resources(_stack(default_templates, "risk"), "AWS::IAM::Role").values()
                if r["Properties"].get("RoleName") == "fmops-risk-lead-data-scientist")
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_access_matrix_document_is_current():
    assert personas.ACCESS_MATRIX_DOC.read_text() == personas.render_access_matrix(), \
        "docs/access-matrix.md is stale: run `fmops access-matrix`"


def test_scp_documents_fit_the_organizations_limit():
    for name, document in personas.scp_documents(_all_model_arns() or ["arn:aws:bedrock:eu-west-1::foundation-model/x"]).items():
        assert len(json.dumps(document, separators=(",", ":"))) <= 5120, name


# parliament findings accepted, each with the reason; any other finding fails the lint test.
PARLIAMENT_ACCEPTED = {
    ("UNKNOWN_CONDITION_FOR_ACTION", "bedrock:GuardrailIdentifier"):
        "parliament 1.6.4's bundled IAM data predates this key; the Bedrock user guide documents "
        "bedrock:GuardrailIdentifier for InvokeModel and InvokeModelWithResponseStream",
    ("RESOURCE_MISMATCH", "bedrock:InvokeModel"):
        "Bedrock model ids contain ':' (amazon.nova-pro-v1:0), which parliament's ARN matcher "
        "reads as an extra ARN field; the ARN is the documented foundation-model format",
    ("RESOURCE_STAR", "sagemaker:DescribeDomain"):
        "audit-read: the auditor, data owner and platform personas read configuration account-wide; "
        "these calls return configuration, not data",
    ("RESOURCE_STAR", "bedrock:ApplyGuardrail"):
        "the permission boundary's service ceiling caps, it does not grant (see acknowledge.py "
        "boundary-service-ceiling)",
    ("INVALID_ARN", "Region expected to be of form like us-east-1"):
        "a cross-Region model's foundation-model ARN names the geography's Regions as 'eu-*'; IAM "
        "matches wildcards in any ARN segment, parliament only accepts full Region names or '*'",
    ("RESOURCE_MISMATCH", "ec2:CreateVpcEndpoint"):
        "EC2 authorizes CreateVpcEndpoint on the VPC, subnets and security groups it uses as well as on the "
        "new endpoint (the EC2 service authorization reference lists all four resource types); parliament "
        "1.6.4 knows only vpc-endpoint",
    ("UNKNOWN_ACTION", "logs:*Deletion*"):
        "the launch boundary's pattern for logs:PutLogGroupDeletionProtection, which CloudFormation's log "
        "group handler calls and which is newer than parliament 1.6.4's IAM data (cfn-lint's service "
        "data lists it; tests/test_classification.py::test_actions_beyond_the_dataset_are_iam_actions)",
    ("MISMATCHED_TYPE_BUT_USABLE", "StringNotEquals"):
        "iam:PermissionsBoundary is compared with string operators in AWS's own examples",
}


def _accepted(finding) -> bool:
    detail = str(finding.detail)
    return any(issue == finding.issue and marker in detail for (issue, marker) in PARLIAMENT_ACCEPTED)


def test_generated_policies_pass_parliament(default_templates):
    from parliament import analyze_policy_string

    linted, unexplained = 0, []
    for team in ("risk", "genai", "platform"):
        for policy in resources(_stack(default_templates, team), "AWS::IAM::ManagedPolicy").values():
            props = policy["Properties"]
            findings = analyze_policy_string(json.dumps(props["PolicyDocument"])).findings
            unexplained += [(props["ManagedPolicyName"], f.issue, f.detail) for f in findings if not _accepted(f)]
            linted += 1
    for name, document in personas.scp_documents(_all_model_arns()).items():
        findings = analyze_policy_string(json.dumps(document)).findings
        unexplained += [(name, f.issue, f.detail) for f in findings if not _accepted(f)]
    assert linted >= 2 * len(MATRIX.team_personas()) + len(MATRIX.platform_personas())
    assert not unexplained, unexplained


def test_governance_stack_attaches_the_scps_when_configured(tmp_path):
    from infra.app.builder import build_app, new_app
    from tests.conftest import load_templates

    path = tmp_path / "with-scp.yaml"
    path.write_text(DEFAULT_CONFIG.read_text().replace(
        "  log_retention_days: 365\n", "  log_retention_days: 365\n  scp_target_ids: [ou-ab12-cdef3456]\n"))
    # The scoped synth of the risk team's pipeline builds the governance platform stack exactly as
    # the whole organisation's synth does (tests/test_scoped_synth.py), and the risk accounts.
    app = new_app(outdir=str(tmp_path / "out"))
    build_app(load_config(path), app, pipeline_group="risk", control_tower=False)
    templates = load_templates(Path(app.synth().directory))
    policies = resources(templates["fmops-tooling-platform"], "AWS::Organizations::Policy")
    documents = personas.scp_documents(organisation_model_arns(load_config(path)))
    assert {p["Properties"]["Name"]: p["Properties"]["Content"] for p in policies.values()} == documents
    for policy in policies.values():
        assert policy["Properties"]["Type"] == "SERVICE_CONTROL_POLICY"
        assert policy["Properties"]["TargetIds"] == ["ou-ab12-cdef3456"]
    assert not resources(templates["fmops-risk-dev-platform"], "AWS::Organizations::Policy")


def test_personas_open_only_their_own_studio_profile(nodes):
    scientist = nodes["risk"]["data-scientist"]
    own = "arn:aws:sagemaker:eu-west-1:222222222221:user-profile/d-example/risk-data-scientist"
    lead = "arn:aws:sagemaker:eu-west-1:222222222221:user-profile/d-example/risk-lead-data-scientist"
    check = local_check_authorization_full
    assert check(scientist, "sagemaker:CreatePresignedDomainUrl", own, {}, None, None, _scps(), None)
    assert not check(scientist, "sagemaker:CreatePresignedDomainUrl", lead, {}, None, None, _scps(), None)


def test_invoke_needs_the_teams_own_guardrail_at_its_published_version(nodes, default_templates):
    """invoke-fm is granted by the GenAI stack with the exact guardrail version, through the
    team's inference profile: another guardrail of the account, the DRAFT version or no
    guardrail is refused, for every persona, on the profile and on the model it routes to."""
    scope = _scope("genai")
    model = scope.model_arns[0]
    profile = next(_profile_arn(scope.account, logical_id) for logical_id, r in resources(
        default_templates["fmops-genai-dev-genai-genai"], "AWS::Bedrock::ApplicationInferenceProfile").items()
        if r["Properties"]["ModelSource"]["CopyFrom"] == model)
    allowed = [p for p in MATRIX.team_personas() if MATRIX.cell(p, "invoke-fm") is Cell.ALLOW]
    assert allowed
    guardrail = _guardrail_arn(scope.account)
    for persona, node in nodes["genai"].items():
        def invoke(identifier: str | None) -> bool:
            context = {"bedrock:GuardrailIdentifier": identifier} if identifier else {}
            return all(local_check_authorization_full(node, "bedrock:InvokeModel", resource, request_context, None, None,
                                                      _scps(), None)
                       for resource, request_context in ((profile, context),
                                                         (model, {**context, "bedrock:InferenceProfileArn": profile})))

        assert invoke(f"{guardrail}:1") is (persona in allowed), persona
        for other in (f"{guardrail}:DRAFT", f"{guardrail}:2", guardrail,
                      f"arn:aws:bedrock:eu-west-1:{scope.account}:guardrail/gr0other1:1", None):
            assert not invoke(other), (persona, other)


def test_persona_policies_leave_the_guarded_allow_to_the_genai_stack(default_templates):
    """No persona policy of a team stack allows Bedrock invoke: only the GenAI stack's policy
    does, attached by name to exactly the personas with an allow cell."""
    for team in ("risk", "genai"):
        for policy in resources(_stack(default_templates, team), "AWS::IAM::ManagedPolicy").values():
            if policy["Properties"]["ManagedPolicyName"].endswith("-boundary"):
                continue  # a ceiling, not a grant
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    assert "bedrock:InvokeModel" not in json.dumps(statement["Action"]), statement
    [guarded] = [p["Properties"] for p in resources(default_templates["fmops-genai-dev-genai-genai"],
                                                    "AWS::IAM::ManagedPolicy").values()
                 if p["Properties"]["ManagedPolicyName"] == "fmops-genai-guarded-invoke"]
    allowed = [p for p in MATRIX.team_personas() if MATRIX.cell(p, "invoke-fm") is Cell.ALLOW]
    expected = {naming.persona_role_name("fmops", "genai", p) for p in allowed}
    expected |= {studio_role_name("fmops", "genai", p) for p in allowed if p in studio_personas()}
    assert set(guarded["Roles"]) == expected
    assert any(name.endswith("-studio") for name in expected)


def test_boundary_fits_iam_limit_with_many_cross_region_models():
    """Cross-Region models cost two ARNs each (profile + the geography's foundation model), so a
    team with eight of them still fits IAM's 6,144-character managed-policy limit."""
    arns = []
    for index in range(8):
        model = f"anthropic.claude-model-{index}-20250101-v1:0"
        arns += [f"arn:aws:bedrock:eu-west-1:333333333331:inference-profile/eu.{model}",
                 f"arn:aws:bedrock:eu-*::foundation-model/{model}"]
    boundary = "arn:aws:iam::333333333331:policy/fmops-a-long-team-name-boundary"
    approvers = personas.approver_role_arns("fmops", "a-long-team-name", "333333333331")
    for launch_for in (None, boundary):  # the team boundary, the launch boundary
        document = personas.boundary_document(boundary, arns, approvers, org="fmops", team="a-long-team-name",
                                              launch_for=launch_for)
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144, launch_for
    platform = personas.boundary_document("arn:aws:iam::333333333331:policy/fmops-platform-boundary", arns,
                                          org="fmops", team="platform")
    assert len(json.dumps(platform, separators=(",", ":"))) <= 6144


def _stack_dependencies(assembly) -> dict[str, set[str]]:
    """Stack name -> names of the stacks it depends on, nested assemblies (stages) included."""
    manifest = read_manifest(assembly)
    names, dependencies = {}, {}
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact["type"] == "cdk:cloud-assembly":
            dependencies |= _stack_dependencies(assembly / artifact["properties"]["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            names[artifact_id] = artifact["properties"].get("stackName", artifact_id)
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact_id in names:
            dependencies[names[artifact_id]] = {names[d] for d in artifact.get("dependencies", []) if d in names}
    return dependencies


def test_stacks_deploy_after_the_roles_they_attach_policies_to(default_assembly):
    """Policies attached by role name need the roles first: the GenAI stack's guarded-invoke
    (persona and Studio roles), the catalog stack's end-user policy (launchers' Studio roles)."""
    dependencies = _stack_dependencies(default_assembly)
    assert {"fmops-genai-dev-genai", "fmops-genai-dev-studio"} <= dependencies["fmops-genai-dev-genai-genai"]
    assert "fmops-genai-dev-studio" in dependencies["fmops-genai-dev-genai-catalog"]


def test_scp_allow_list_matches_inference_profiles_in_every_account():
    """The SCP applies to many accounts: its Bedrock allow-list names each team's profiles in
    any account and holds no unresolved token (the files in docs/scp are attachable as they are)."""
    arns = organisation_model_arns(load_config(DEFAULT_CONFIG))
    assert "arn:aws:bedrock:eu-west-1:*:inference-profile/eu.amazon.nova-pro-v1:0" in arns
    assert "arn:aws:bedrock:eu-*::foundation-model/amazon.nova-pro-v1:0" in arns
    for path in (personas.ACCESS_MATRIX_DOC.parent / "scp").glob("*.json"):
        assert "Token[" not in path.read_text() and "000000000000" not in path.read_text(), path


def test_s3_capabilities_carry_the_team_key_through_s3_only(nodes):
    """Objects of the team bucket are encrypted with the team's key: a persona that may write
    there may generate data keys and decrypt, through S3 only and on keys tagged with its team;
    a read-only persona may only decrypt; a persona without S3 capabilities gets nothing."""
    scope = _scope("risk")
    key = f"arn:aws:kms:eu-west-1:{scope.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com", "aws:ResourceTag/fmops:team": "risk"}

    def allowed(persona: str, action: str, context: dict) -> bool:
        return local_check_authorization_full(nodes["risk"][persona], action, key, context, None, None, _scps(), None)

    assert allowed("data-engineer", "kms:GenerateDataKey", via_s3)
    assert allowed("fine-tuner", "kms:GenerateDataKey", via_s3)  # stage-models
    assert allowed("data-owner", "kms:Decrypt", via_s3)
    assert not allowed("data-owner", "kms:GenerateDataKey", via_s3)
    assert not allowed("data-engineer", "kms:Decrypt", {**via_s3, "kms:ViaService": "sagemaker.eu-west-1.amazonaws.com"})
    assert not allowed("data-engineer", "kms:Decrypt", {**via_s3, "aws:ResourceTag/fmops:team": "genai"})
    assert allowed("product-owner", "kms:Decrypt", via_s3)  # track-experiments read: MLflow artifacts
    assert not allowed("product-owner", "kms:GenerateDataKey", via_s3)
    assert not allowed("data-consumer", "kms:Decrypt", via_s3)


def test_guardrail_arn_and_version_are_published_to_the_invokers(default_templates, nodes):
    """Callers name the guardrail and its published version on every call: both are SSM
    parameters of the GenAI stack, readable by the personas allowed invoke-fm only."""
    template = default_templates["fmops-genai-dev-genai-genai"]
    parameters = {r["Properties"]["Name"]: r["Properties"]["Value"] for r in resources(template, "AWS::SSM::Parameter").values()}
    guardrail_id, _ = next(iter(resources(template, "AWS::Bedrock::Guardrail").items()))
    version_id, _ = next(iter(resources(template, "AWS::Bedrock::GuardrailVersion").items()))
    assert parameters["/fmops/genai/genai/guardrail-arn"] == {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]}
    assert parameters["/fmops/genai/genai/guardrail-version"] == {"Fn::GetAtt": [version_id, "Version"]}
    arn = f"arn:aws:ssm:eu-west-1:{TEAMS['genai'][1]}:parameter/fmops/genai/genai/guardrail-version"
    for persona, node in nodes["genai"].items():
        readable = local_check_authorization_full(node, "ssm:GetParameter", arn, {}, None, None, _scps(), None)
        assert readable is (MATRIX.cell(persona, "invoke-fm") is Cell.ALLOW), persona
