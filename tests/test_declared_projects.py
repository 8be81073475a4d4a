"""Config-declared SageMaker projects (``teams[].catalog.declared_projects``): the config layer's
one-line errors, the build-time check of their parameters against the synthesized template, and
the default app's declared project on the catalog path (genai team, dev account). The project
path is in tests/test_project_path.py."""

from __future__ import annotations

import re

import pytest

from infra import naming
from infra.config import ConfigError, load_config, load_config_text
from infra.stacks.catalog.projects import DeclaredProjectError, project_logical_id
from tests.conftest import REPO, load_templates, resolve_pseudo, resources

DEFAULT = (REPO / "config" / "default.yaml").read_text()
ANCHOR = "        - name: support-assistant\n          template: genai-app\n"
SINGLE = (REPO / "config" / "single-account.yaml").read_text()
SINGLE_ANCHOR = "    alarms: {emails: [pilot-oncall@example.com]}\n"
ISSUE = re.compile(r"^config\.yaml:(\d+): (\S+): (.+)$")


def _error(text: str) -> tuple[str, str]:
    with pytest.raises(ConfigError) as raised:
        load_config_text(text, "config.yaml")
    [issue] = str(raised.value).splitlines()
    match = ISSUE.match(issue)
    assert match, issue
    return match[2], match[3]


def _declared(extra: str) -> str:
    assert ANCHOR in DEFAULT
    return DEFAULT.replace(ANCHOR, ANCHOR + extra)


@pytest.mark.parametrize(("extra", "field", "says"), [
    ("        - {name: other, template: no-such-template}\n", ".template", "not offered to team genai"),
    ("        - {name: support-assistant, template: fm-finetuning, stage: prod}\n", ".template",
     "in its prod account; offered: genai-app, fm-hosting, classical-ml"),
    ("        - {name: bad_name, template: genai-app}\n", ".name", "should match pattern"),
    ("        - {name: " + "a" * 33 + ", template: genai-app}\n", ".name", "at most 32"),
    ("        - {name: Support-Assistant, template: genai-app, project_tag: document-search}\n", ".name",
     "duplicate project name"),
    ("        - {name: other, template: genai-app, parameters: {SageMakerProjectName: x}}\n", ".parameters",
     "set by SageMaker"),
    ("        - {name: other, template: genai-app, project_tag: nope}\n", ".project_tag", "not an allowed"),
    ("        - {name: other, template: genai-app}\n", ".project_tag", "give project_tag"),
    ("        - {name: other, template: genai-app, stage: qa}\n", ".stage", "dev"),
    ("        - {name: other, template: genai-app, unknown: 1}\n", ".unknown", "unknown key"),
])
def test_bad_declared_projects_are_one_line_errors(extra, field, says):
    where, message = _error(_declared(extra))
    assert where.startswith("teams[1](name=genai).catalog.declared_projects[1]")
    assert where.endswith(field) and says in message, (where, message)


def test_projects_of_two_teams_in_one_account_need_their_own_names():
    """Single account: a second team declaring the first one's project name is refused."""
    text = SINGLE.replace(SINGLE_ANCHOR, SINGLE_ANCHOR + "    catalog:\n      declared_projects:\n"
                          "        - {name: churn, template: classical-ml}\n")
    second = text[text.index("  - name: pilot"):text.index("\nmodels:")].replace("name: pilot", "name: pilot2")
    text = text.replace("\nmodels:", "\n" + second + "\nmodels:", 1)
    load_config_text(text.replace("name: churn, template: classical-ml}\n    genai", "name: churn2, template: "
                                  "classical-ml}\n    genai", 1), "config.yaml")
    where, message = _error(text)
    assert where.startswith("teams[1](name=pilot2).catalog.declared_projects[0]") and "also declared by team pilot" in message


def test_shared_portfolio_takes_no_declared_project():
    where, message = _error(DEFAULT.replace("      projects: [support-assistant, document-search]\n",
                                            "      projects: [support-assistant, document-search]\n"
                                            "      share_from_governance: true\n"))
    assert where.startswith("teams[1](name=genai).catalog.declared_projects[0]") and "share_from_governance" in message


def test_parameters_are_checked_against_the_synthesized_template(tmp_path):
    """Building the app refuses a parameter the template does not take, or a value it does not
    allow; app.py prints it as the config's ``file:line`` (tests/test_project_path.py has a valid one)."""
    from infra.app.builder import build_app, new_app

    def build(parameters: str) -> DeclaredProjectError:
        text = SINGLE.replace(SINGLE_ANCHOR, SINGLE_ANCHOR + "    catalog:\n      declared_projects:\n"
                              f"        - {{name: churn, template: classical-ml, parameters: {parameters}}}\n")
        path = tmp_path / "config.yaml"
        path.write_text(text)
        with pytest.raises(DeclaredProjectError) as raised:
            build_app(load_config(path), new_app(outdir=str(tmp_path / "out")), checks=False)
        return raised.value

    error = build("{NoSuchChoice: x}")
    assert error.team == "pilot" and error.position == 0 and error.loc == ("parameters", "NoSuchChoice")
    assert "EndpointInstanceType" in str(error)  # the template's choices
    error = build("{EndpointInstanceType: ml.p5.48xlarge}")
    assert error.loc == ("parameters", "EndpointInstanceType") and "allowed values are ml.m5.large" in str(error)


ACCOUNT, REGION = "333333333331", "eu-west-1"
PROJECTS, CATALOG = "fmops-genai-dev-genai-projects", "fmops-genai-dev-genai-catalog"


def test_default_app_declares_the_genai_project_from_its_product(default_templates):
    """Catalog path: the project provisions the team's product (id and artifact from the catalog
    stack's parameters), retained, with a logical ID from its name; only in the dev account; the
    CDK execution role, which calls CreateProject, may launch the portfolio."""
    project = default_templates[PROJECTS]["Resources"][project_logical_id("support-assistant")]
    assert project["Type"] == "AWS::SageMaker::Project"
    assert project["DeletionPolicy"] == project["UpdateReplacePolicy"] == "Retain"
    props = project["Properties"]
    assert props["ProjectName"] == "support-assistant" and "TemplateProviderDetails" not in props
    details = props["ServiceCatalogProvisioningDetails"]
    catalog = default_templates[CATALOG]
    written = {p["Properties"]["Name"]: p["Properties"]["Value"] for p in resources(catalog, "AWS::SSM::Parameter").values()}
    product_id = next(k for k, r in resources(catalog, "AWS::ServiceCatalog::CloudFormationProduct").items()
                      if r["Properties"]["Name"] == "GenAI application on Bedrock")
    for key, field in (("product-id", "ProductId"), ("artifact-id", "ProvisioningArtifactId")):
        name = naming.declared_project_parameter("fmops", "genai", "genai-app", key)
        assert details[field] == "{{resolve:ssm:" + name + "}}"
        assert product_id in str(written[name])
    assert {"Key": "fmops:project", "Value": "support-assistant"} in props["Tags"]
    deployer = [r["Properties"] for r in resources(catalog, "AWS::ServiceCatalog::PortfolioPrincipalAssociation").values()
                if "cfn-exec" in str(r["Properties"]["PrincipalARN"])]
    assert [resolve_pseudo(d["PrincipalARN"], ACCOUNT, REGION) for d in deployer] == [
        naming.bootstrap_role_arn(ACCOUNT, REGION, "cfn-exec")]
    assert not [s for s in default_templates if s.endswith("-projects") and s != PROJECTS]


def test_no_projects_stack_without_declared_projects(single_templates):
    assert single_templates and not [name for name in single_templates if name.endswith("-projects")]
