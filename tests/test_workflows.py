"""Every cell of the persona matrix as a workflow: the calls a real client makes, each evaluated
against every layer AWS applies (identity policies, boundary, SCPs, bucket and key policies, the
passed role's trust), for two teams in each mode.

The traces are recorded from the clients (``infra/personas/workflows``); a test proves they are
current. An allowed cell's workflow must complete; any other cell's workflow must fail at the
step that carries the capability's own action (or the role it passes).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from fmops_constructs.bedrock import BedrockModel
from infra import naming
from infra.assembly import read_stacks
from infra.compliance.iam_eval import Decision, Layers, Principal, evaluate, trust_allows
from infra.config import DEFAULT_CONFIG, load_config
from infra.personas import Cell, available, load_matrix, scp_documents
from infra.personas.scp import organisation_model_arns
from infra.personas.workflows import TRACES, load_trace, record_all
from infra.personas.workflows.clients import WORKFLOWS
from infra.personas.workflows.iam import Step, Target, steps, unmapped
from infra.personas.workflows.principals import AccountPrincipals, account_principals

MATRIX = load_matrix()
ADVERSARIAL = ["train-as-other-role", "pass-role-to-lambda", "open-other-studio", "register-approved",
               "rewrite-endpoint-policy", "endpoint-to-foreign-service", "app-without-image",
               "app-on-unlisted-image", "space-on-unlisted-image", "key-outside-service",
               "studio-key-outside-service", "converse-bypassing-profile", "log-runs-other-team", "open-other-mlflow"]
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# Two teams in each mode: the default organisation's risk and genai teams; in single-account mode
# the shipped trial config with a second team beside its pilot team.
SECOND_SINGLE_TEAM = """  - name: second
    cost_centre: CC-0002
    accounts: {dev: sandbox}
    features: [studio, pipelines, hosting, service-catalog]
    alarms: {emails: [second-oncall@example.com]}
"""


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_trace_is_current(workflow):
    """The client, run again, sends exactly the checked-in trace."""
    [text] = record_all([workflow]).values()
    path = TRACES / f"{workflow}.json"
    assert path.exists() and path.read_text() == text, f"stale trace {workflow}: run `python -m infra.personas.workflows`"


def test_every_trace_has_its_workflow():
    assert sorted(p.stem for p in TRACES.glob("*.json")) == sorted(WORKFLOWS)


def test_every_recorded_operation_maps_to_iam():
    for name in WORKFLOWS:
        assert not unmapped(load_trace(name)), name


def test_every_capability_names_recorded_workflows():
    for name, capability in MATRIX.capabilities.items():
        assert capability.workflows.write or capability.workflows.read, name
        for workflow in capability.workflows.write + capability.workflows.read:
            assert workflow in WORKFLOWS, (name, workflow)


@pytest.fixture(scope="module")
def single_two_teams(tmp_path_factory) -> Path:
    from tests.conftest import synth

    folder = tmp_path_factory.mktemp("single-two-teams")
    path = folder / "single.yaml"
    text = (Path(DEFAULT_CONFIG).parent / "single-account.yaml").read_text()
    path.write_text(text.replace("\nmodels:\n", "\n" + SECOND_SINGLE_TEAM + "\nmodels:\n", 1))
    return synth(load_config(path), folder / "out")


def _scp_levels(config) -> list[list[dict]]:
    documents = scp_documents(organisation_model_arns(config))
    return [[FULL_ACCESS], [FULL_ACCESS, *documents.values()]]


@cache
def _principals(assembly: Path, account: str, single: bool) -> AccountPrincipals:
    stacks = [s for s in read_stacks(assembly) if s.account == account]
    # In single-account mode no organisation exists, so no SCP applies.
    config = load_config(DEFAULT_CONFIG)
    levels = [] if single else _scp_levels(config)
    return account_principals(stacks, levels, None if single else config.organisation.aws_organization_id)


def _team_key(principals: AccountPrincipals, team: str) -> str:
    keys = principals.keys_by_tag.get((naming.TAG_TEAM, team), [])
    data = [k for k in keys if k.rsplit("/", 1)[-1].startswith(("DataKey", "TeamKey", "Key"))] or keys
    if team == "platform":  # the platform personas' workflows touch no team key
        return f"arn:aws:kms:{principals.region}:{principals.account}:key/none"
    assert data, f"no key tagged with team {team}"
    return sorted(data)[0]


def _model(principals: AccountPrincipals, org: str, team: str) -> str:
    """The first model of the team's boundary allow-list, or another team's when it has none."""
    persona = "data-engineer" if team != "platform" else "auditor"
    boundary = principals.roles[naming.persona_role_name(org, team, persona)].layers.boundary
    for statement in boundary["Statement"]:
        if statement.get("Sid") == "DenyBedrockOutsideAllowList":
            listed = statement["NotResource"] if isinstance(statement["NotResource"], list) else [statement["NotResource"]]
            # The boundary names inference profiles in any Region and account: the team's own.
            listed = [a.replace(":*:*:inference-profile/", f":{principals.region}:{principals.account}:inference-profile/")
                      for a in listed]
            allowed = [a for a in listed if "/none" not in a and "*" not in a.split(":")[4]
                       and ":application-inference-profile/" not in a]
            if allowed:
                return allowed[0]
    return f"arn:aws:bedrock:{principals.region}:{principals.account}:inference-profile/eu.amazon.nova-pro-v1:0"


def _profile(principals: AccountPrincipals, team: str, model_arn: str) -> tuple[str, tuple[str, ...], str]:
    """The team's application inference profile of ``model_arn`` (its first one when none routes
    to it), what it routes to, and the model slug of its SSM parameter; another team's when the
    team has none (its calls must then fail)."""
    profiles = sorted(principals.inference_profiles.values(), key=lambda p: p.arn)
    own = [p for p in profiles if p.tags.get(naming.TAG_TEAM) == team] or profiles
    if not own:
        return "", (), "none"
    chosen = next((p for p in own if model_arn in p.routes), own[0])
    copied = chosen.routes[0].rsplit("/", 1)[-1]
    model_id = copied.split(".", 1)[1] if ":inference-profile/" in chosen.routes[0] else copied
    return chosen.arn, chosen.routes, BedrockModel(model_id).slug


def _actor(principals: AccountPrincipals, org: str, team: str, persona: str, actor: str):
    if actor == "persona":
        return principals.roles.get(naming.persona_role_name(org, team, persona))
    if actor == "studio-role":
        return principals.roles.get(naming.studio_role_name(org, team, persona))
    return principals.role(actor.removeprefix("role:"))


def _decide(principals: AccountPrincipals, org: str, team: str, persona: str, step: Step) -> Decision:
    role = _actor(principals, org, team, persona, step.actor)
    if role is None:
        return Decision(False, f"no role for actor {step.actor}")
    request = step.request
    context = {**principals.session_context(), **{f"aws:PrincipalTag/{k}": v for k, v in role.tags.items()}}
    request = type(request)(request.action, request.resource, {**context, **request.context})
    # Every call goes through the VPC endpoint of its service, whose policy applies too.
    kwargs: dict = {"endpoint_policy": principals.endpoint_policy(request.action)}
    if request.action.startswith("s3:") and request.resource.startswith("arn:aws:s3:::"):
        bucket = request.resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        kwargs["resource_policy"] = principals.bucket_policies.get(bucket)
        kwargs["resource_account"] = principals.account if bucket in principals.bucket_policies else None
        if kwargs["resource_account"]:
            request = type(request)(request.action, request.resource,
                                    {**request.context, "aws:ResourceAccount": kwargs["resource_account"]})
    if request.action.startswith("kms:"):
        kwargs["kms_key_policy"] = principals.key_policies.get(request.resource, {"Statement": []})
    decision = evaluate(role.layers, request, Principal(role.arn, principals.account), **kwargs)
    if decision and step.passed_role:
        passed = principals.role(step.passed_role)
        if passed is None or not trust_allows(passed.trust, step.passed_to or ""):
            return Decision(False, f"{step.passed_role} does not exist or does not trust {step.passed_to}")
    return decision


def _run(principals: AccountPrincipals, org: str, team: str, persona: str, workflow: str
         ) -> tuple[Step | None, Decision | None, int]:
    """The first refused step of a workflow and why (None when it completes), and its step count."""
    model_arn = _model(principals, org, team)
    profile_arn, routes, slug = _profile(principals, team, model_arn)
    target = Target(org=org, team=team, persona=persona, account=principals.account, region=principals.region,
                    model_arn=model_arn, key_arn=_team_key(principals, team), profile_arn=profile_arn,
                    profile_routes=routes, model_slug=slug)
    all_steps = steps(load_trace(workflow), target)
    for step in all_steps:
        decision = _decide(principals, org, team, persona, step)
        if not decision:
            return step, decision, len(all_steps)
    return None, None, len(all_steps)


def _teams(mode: str) -> list[tuple[str, str]]:
    return [("risk", "222222222221"), ("genai", "333333333331")] if mode == "organisation" else \
        [("pilot", "123456789012"), ("second", "123456789012")]


def _available(mode: str, team: str, capability: str) -> bool:
    """What the team can have (``infra.personas.available``), from its features in the config."""
    if team == "platform":
        return True
    if mode == "organisation":
        features = {t.name: list(t.features) for t in load_config(DEFAULT_CONFIG).teams}
    else:
        features = {t.name: list(t.features) for t in load_config(Path(DEFAULT_CONFIG).parent / "single-account.yaml").teams}
        features["second"] = ["studio", "pipelines", "hosting", "service-catalog"]
    return available(capability, features[team])


def _personas(team: str) -> list[str]:
    return MATRIX.platform_personas() if team == "platform" else MATRIX.team_personas()


def _accounts(mode: str) -> list[tuple[str, str]]:
    """The teams evaluated, plus the platform personas (in genai-dev, or in the one account)."""
    return _teams(mode) + [("platform", "333333333331" if mode == "organisation" else "123456789012")]


CASES = [(mode, team, persona, capability, side)
         for mode in ("organisation", "single-account")
         for team, _ in _accounts(mode)
         for persona in _personas(team)
         for capability, spec in MATRIX.capabilities.items()
         for side in ("write", "read") if getattr(spec.workflows, side)]


@pytest.mark.parametrize(("mode", "team", "persona", "capability", "side"), CASES,
                         ids=[f"{m[:3]}-{t}-{p}-{c}-{s}" for m, t, p, c, s in CASES])
def test_cell_workflow(request, mode, team, persona, capability, side):
    assembly = request.getfixturevalue("default_assembly" if mode == "organisation" else "single_two_teams")
    account = dict(_accounts(mode))[team]
    principals = _principals(assembly, account, mode == "single-account")
    spec = MATRIX.capabilities[capability]
    cell = MATRIX.cell(persona, capability)
    expected = (not spec.boundary_denied and _available(mode, team, capability)
                and (cell is Cell.ALLOW or (cell is Cell.READ_ONLY and side == "read")))
    for workflow in getattr(spec.workflows, side):
        step, decision, count = _run(principals, "fmops", team, persona, workflow)
        assert count > 0, workflow
        if expected:
            assert step is None, f"{workflow}: {step.operation} {step.request.action} {step.request.resource} " \
                                 f"as {step.actor}: {decision.reason}"
        else:
            # Refused at the first step the persona's policies do not grant, or deny.
            assert step is not None, f"{workflow} completes, but the cell is {cell}"


@pytest.mark.parametrize("mode", ["organisation", "single-account"])
@pytest.mark.parametrize("workflow", ADVERSARIAL)
def test_adversarial_workflow_fails_for_every_persona(request, mode, workflow):
    """Run a job as another role, pass a role to another service, open another profile, register
    an Approved package, rewrite an endpoint policy or reach a foreign service, start Studio on no
    or an unlisted image, use a key outside its service: every persona of both teams is refused."""
    assembly = request.getfixturevalue("default_assembly" if mode == "organisation" else "single_two_teams")
    for team, account in _accounts(mode):
        principals = _principals(assembly, account, mode == "single-account")
        for persona in _personas(team):
            step, _, _ = _run(principals, "fmops", team, persona, workflow)
            assert step is not None, f"{team} {persona}: {workflow} completes"


def test_project_roles_cannot_approve_their_own_models(default_assembly):
    """Any role under the team boundary but the approvers' (a project's pipeline role, a job's
    role) is refused Approved, on create and on update."""
    principals = _principals(default_assembly, "222222222221", False)
    boundary = principals.roles[naming.persona_role_name("fmops", "risk", "data-engineer")].layers.boundary
    pipeline = Principal("arn:aws:iam::222222222221:role/fmops/risk/projects/risk-churn-pipeline", "222222222221")
    admin = Layers([FULL_ACCESS], boundary, _scp_levels(load_config(DEFAULT_CONFIG)))
    package = "arn:aws:sagemaker:eu-west-1:222222222221:model-package/risk-churn/1"
    from infra.compliance.iam_eval import Request

    for action in ("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"):
        assert not evaluate(admin, Request(action, package, {"sagemaker:ModelApprovalStatus": "Approved"}), pipeline)
        assert evaluate(admin, Request(action, package, {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}), pipeline)
    approver = Principal("arn:aws:iam::222222222221:role/fmops-risk-lead-data-scientist", "222222222221")
    assert evaluate(admin, Request("sagemaker:UpdateModelPackage", package, {"sagemaker:ModelApprovalStatus": "Approved"}), approver)
