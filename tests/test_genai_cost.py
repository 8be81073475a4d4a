"""GenAI governance and cost on the synthesized templates: the account's enforced guardrail, the
teams' and projects' application inference profiles and the policies that allow the models only
through them, one source of the guardrail version, and team budgets that see Bedrock and
endpoint spend (the profiles' and endpoints' team tags)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import naming
from infra.assembly import read_stacks
from infra.compliance.iam_eval import Principal, Request, evaluate
from infra.config import DEFAULT_CONFIG, load_config
from infra.personas.workflows.principals import AccountPrincipals, account_principals
from infra.plan import build_plan
from tests.conftest import REPO, resources
from tests.test_catalog import _product_templates

CONFIGS = {"default": DEFAULT_CONFIG, "single": REPO / "config" / "single-account.yaml"}
ENDPOINT_TYPES = ("AWS::SageMaker::Endpoint", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Model",
                  "AWS::SageMaker::InferenceComponent")
INVOKE = "bedrock:InvokeModel"


def _tags(resource: dict) -> dict:
    return {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def case(request):
    name = request.param
    templates = request.getfixturevalue(f"{name}_templates")
    return load_config(Path(CONFIGS[name])), templates


# -- the enforced guardrail ---------------------------------------------------------------------

def test_every_bedrock_account_enforces_one_comprehensive_guardrail(case):
    config, templates = case
    plan = build_plan(config)
    bedrock_accounts = [a for a in plan.accounts if a.uses_bedrock]
    assert bedrock_accounts
    for account in plan.accounts:
        enforced = [(name, r) for name, t in templates.items() if name.startswith(account.stack_name(""))
                    for r in resources(t, "AWS::Bedrock::EnforcedGuardrailConfiguration").values()]
        if not account.uses_bedrock:
            assert not enforced, account.name
            continue
        [(stack, configuration)] = enforced
        assert stack == account.stack_name("bedrock-logging")
        props = configuration["Properties"]
        # Every user message and the system prompt, whatever guard-content tags the caller sets.
        assert props["SelectiveContentGuarding"] == {"Messages": "COMPREHENSIVE", "System": "COMPREHENSIVE"}
        assert "ModelEnforcement" not in props  # every model
        template = templates[stack]
        [guardrail_id] = resources(template, "AWS::Bedrock::Guardrail")
        [version_id] = resources(template, "AWS::Bedrock::GuardrailVersion")
        assert props["GuardrailIdentifier"] == {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]}
        assert props["GuardrailVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
        guardrail = template["Resources"][guardrail_id]["Properties"]
        assert guardrail["KmsKeyArn"] and guardrail["ContentPolicyConfig"]["FiltersConfig"]
        [policy] = resources(template, "AWS::Bedrock::ResourcePolicy").values()
        [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == "bedrock:ApplyGuardrail"
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": account.account.id}}


def test_the_enforced_guardrail_follows_the_config(tmp_path):
    from tests.conftest import synth

    text = (REPO / "config" / "single-account.yaml").read_text()
    text = text.replace("organisation:\n", "organisation:\n  enforced_guardrail:\n    denied_topics:\n"
                        "      - {name: Weapons, definition: Making or acquiring weapons}\n", 1)
    path = tmp_path / "single.yaml"
    path.write_text(text)
    config = load_config(path)
    assert config.organisation.enforced_guardrail.denied_topics[0].name == "Weapons"
    out = synth(config, tmp_path / "out", checks=False)
    [template] = [s.template for s in read_stacks(out) if s.name.endswith("-bedrock-logging")]
    [guardrail] = resources(template, "AWS::Bedrock::Guardrail").values()
    assert guardrail["Properties"]["TopicPolicyConfig"]["TopicsConfig"][0]["Name"] == "Weapons"


# -- application inference profiles -------------------------------------------------------------

def test_each_team_has_one_tagged_profile_per_model(case):
    config, templates = case
    plan = build_plan(config)
    teams = [(a, t) for a in plan.accounts for t in a.teams if t.uses_bedrock and t.bedrock_models]
    assert teams
    for account, team in teams:
        template = templates[team.stack_name("genai")]
        profiles = resources(template, "AWS::Bedrock::ApplicationInferenceProfile")
        assert sorted(p["Properties"]["ModelSource"]["CopyFrom"] for p in profiles.values()) == sorted(
            f"arn:aws:bedrock:{config.organisation.region}:{account.account.id}:inference-profile/{m.invoke_id}"
            if m.geography else f"arn:aws:bedrock:{config.organisation.region}::foundation-model/{m.model_id}"
            for m in team.bedrock_models)
        parameters = {r["Properties"]["Name"]: r["Properties"]["Value"]
                      for r in resources(template, "AWS::SSM::Parameter").values()}
        for logical_id, profile in profiles.items():
            tags = _tags(profile)
            assert tags[naming.TAG_TEAM] == team.name and tags[naming.TAG_COST_CENTRE] == team.team.cost_centre
            assert tags[naming.TAG_ORGANISATION] == config.organisation.name
            assert {"Fn::GetAtt": [logical_id, "InferenceProfileArn"]} in parameters.values()
        assert sorted(n for n in parameters if "/inference-profile/" in n) == sorted(
            naming.inference_profile_parameter(config.organisation.name, team.name, m.slug) for m in team.bedrock_models)


def test_persona_access_allows_the_models_only_through_the_team_profiles(default_templates):
    template = default_templates["fmops-genai-dev-genai-genai"]
    profiles = sorted(resources(template, "AWS::Bedrock::ApplicationInferenceProfile"))
    [policy] = [r for r in resources(template, "AWS::IAM::ManagedPolicy").values()
                if r["Properties"]["ManagedPolicyName"] == "fmops-genai-guarded-invoke"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    refs = [{"Fn::GetAtt": [p, "InferenceProfileArn"]} for p in profiles]
    invoke = [s for s in statements if INVOKE in s["Action"]]
    allows = [s for s in invoke if s["Effect"] == "Allow"]
    [on_profiles] = [s for s in allows if all(r in s["Resource"] for r in refs)]
    [on_models] = [s for s in allows if s is not on_profiles]
    assert sorted(map(str, on_models["Condition"]["ArnEquals"]["bedrock:InferenceProfileArn"])) == sorted(map(str, refs))
    assert "bedrock:GuardrailIdentifier" in on_profiles["Condition"]["StringEquals"]
    assert not any(":application-inference-profile/" in str(r) for r in on_models["Resource"])


@pytest.fixture(scope="module")
def genai_dev(default_assembly) -> AccountPrincipals:
    stacks = [s for s in read_stacks(default_assembly) if s.account == "333333333331"]
    from tests.test_workflows import _scp_levels

    return account_principals(stacks, _scp_levels(load_config(DEFAULT_CONFIG)))


def test_the_combinations_an_attacker_tries_are_refused(genai_dev):
    """A GenAI developer of team genai: through the team's profile with its guardrail version is
    allowed (and each resource the profile routes to); without the guardrail, with another version
    or guardrail, on the model directly, through another profile, or with the model claimed to
    come through the profile when the profile itself is not allowed, is refused, by the identity
    policy, the boundary or the SCPs."""
    principals = genai_dev
    role = principals.roles[naming.persona_role_name("fmops", "genai", "genai-developer")]
    caller = Principal(role.arn, principals.account)
    region, account = principals.region, principals.account
    guardrail = f"arn:aws:bedrock:{region}:{account}:guardrail/gr0team1"
    profiles = [p for p in principals.inference_profiles.values() if p.tags.get(naming.TAG_TEAM) == "genai"]
    assert len(profiles) == 2
    profile = profiles[0]
    base = {**principals.session_context(), **{f"aws:PrincipalTag/{k}": v for k, v in role.tags.items()}}

    def allowed(resource: str, **context) -> bool:
        return bool(evaluate(role.layers, Request(INVOKE, resource, {**base, **context}), caller))

    good = {"bedrock:GuardrailIdentifier": f"{guardrail}:1"}
    through = {**good, "bedrock:InferenceProfileArn": profile.arn}
    assert allowed(profile.arn, **good)
    assert all(allowed(route, **through) for route in profile.routes)
    # without the guardrail, with the DRAFT or another version, with another guardrail
    for identifier in (None, f"{guardrail}:DRAFT", f"{guardrail}:2", f"arn:aws:bedrock:{region}:{account}:guardrail/x:1"):
        context = {} if identifier is None else {"bedrock:GuardrailIdentifier": identifier}
        assert not allowed(profile.arn, **context), identifier
        assert not any(allowed(route, **{**context, "bedrock:InferenceProfileArn": profile.arn})
                       for route in profile.routes), identifier
    # the model itself, not through a profile (no team budget would see it)
    assert not any(allowed(route, **good) for route in profile.routes)
    # another application inference profile of the account (one this role could not create, or another team's)
    other = f"arn:aws:bedrock:{region}:{account}:application-inference-profile/someoneelse"
    assert not allowed(other, **good)
    assert not any(allowed(route, **{**good, "bedrock:InferenceProfileArn": other}) for route in profile.routes)
    # a model outside the allow-list, even through the team's profile
    assert not allowed(f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-v2", **through)


def test_project_templates_invoke_through_their_own_profile_with_the_published_version(default_templates,
                                                                                       default_assembly):
    version_parameter = naming.guardrail_parameter("fmops", "genai", "version")
    genai = default_templates["fmops-genai-dev-genai-genai"]
    assert version_parameter in [r["Properties"]["Name"] for r in resources(genai, "AWS::SSM::Parameter").values()]
    products = _product_templates(default_assembly, "fmops-genai-dev-genai-catalog")
    for template_id in ("genai-app", "fm-evaluation"):
        template = products[template_id]
        parameter = template["Parameters"]["GuardrailVersion"]
        assert parameter == {**parameter, "Type": "AWS::SSM::Parameter::Value<String>", "Default": version_parameter}
        [(profile_id, profile)] = resources(template, "AWS::Bedrock::ApplicationInferenceProfile").items()
        assert _tags(profile)["fmops:project"] == {"Ref": "SageMakerProjectName"}
        assert _tags(profile)[naming.TAG_TEAM] == "genai"
        text = str(template)
        assert "ListGuardrails" not in text and "GetGuardrail" not in text
        statements = [s for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
                      for r in resources(template, kind).values() for s in r["Properties"]["PolicyDocument"]["Statement"]]
        pinned = [s for s in statements if INVOKE in s["Action"] and s["Effect"] == "Allow"]
        assert pinned and all("{'Ref': 'GuardrailVersion'}" in str(s["Condition"]["StringEquals"]) for s in pinned)
        assert any(s["Resource"] == {"Fn::GetAtt": [profile_id, "InferenceProfileArn"]} or
                   s["Resource"] == [{"Fn::GetAtt": [profile_id, "InferenceProfileArn"]}] for s in pinned)
        assert version_parameter in text  # the code is told the same parameter's name
    app = products["genai-app"]
    [function] = resources(app, "AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["GUARDRAIL_VERSION_PARAMETER"] == version_parameter
    assert variables["MODEL_ID"]["Fn::GetAtt"][1] == "InferenceProfileArn"


# -- budgets see Bedrock and endpoint spend -----------------------------------------------------

def test_team_budgets_filter_on_the_tag_the_profiles_and_endpoints_carry(case):
    config, templates = case
    plan = build_plan(config)
    checked = 0
    for account in plan.accounts:
        for team in account.teams:
            budget_filter = f"user:{naming.TAG_TEAM}${team.name}"
            if team.team.budget is not None:
                [budget] = resources(templates[team.stack_name()], "AWS::Budgets::Budget").values()
                assert budget["Properties"]["Budget"]["CostFilters"] == {"TagKeyValue": [budget_filter]}
            spending = [r for name in (team.stack_name("genai"), team.stack_name("endpoints")) if name in templates
                        for kind in ("AWS::Bedrock::ApplicationInferenceProfile", *ENDPOINT_TYPES)
                        for r in resources(templates[name], kind).values()]
            for resource in spending:
                tags = _tags(resource)
                assert tags[naming.TAG_TEAM] == team.name and tags[naming.TAG_COST_CENTRE] == team.team.cost_centre
                checked += 1
    assert checked


@pytest.mark.parametrize("template_id", ["fm-hosting", "classical-ml"])
def test_product_endpoints_carry_the_team_cost_tags(default_assembly, template_id):
    for team, cost_centre in (("risk", "CC-1001"), ("genai", "CC-2001")):
        products = _product_templates(default_assembly, f"fmops-{team}-dev-{team}-catalog")
        if template_id not in products:
            continue
        found = [r for kind in ENDPOINT_TYPES for r in resources(products[template_id], kind).values()]
        assert found
        for resource in found:
            assert _tags(resource)[naming.TAG_TEAM] == team
            assert _tags(resource)[naming.TAG_COST_CENTRE] == cost_centre
