"""Adding or removing a team leaves every other stateful resource as it was.

Three synths of the same app: the default organisation (the session's ``default_assembly``),
the default plus a team in new accounts (added with ``fmops onboard-team``'s own edit), and the
default minus its first team (so the remaining team moves up in the list). In every stack
present in two of them, the stateful resources keep their logical IDs and their properties, so
CloudFormation neither replaces nor touches them; and every stateful resource is retained on
delete.
"""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from infra.config import Stage, load_config
from infra.tools.onboard import Request, edited_text
from tests.conftest import REPO, load_templates, synth

STATEFUL_TYPES = frozenset({
    "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::EFS::FileSystem", "AWS::DynamoDB::Table",
    "AWS::SageMaker::Domain", "AWS::ECR::Repository", "AWS::SageMaker::Project",
})
STATEFUL_PREFIXES = ("AWS::CodeArtifact::",)
COMPARED = ("Type", "Properties", "DeletionPolicy", "UpdateReplacePolicy", "Condition")
DEFAULT = REPO / "config" / "default.yaml"
ADDED = Request(team="ml", cost_centre="CC-3001", features=["studio", "pipelines", "hosting", "bedrock"],
                accounts={Stage.DEV: "ml-dev", Stage.PREPROD: "ml-preprod", Stage.PROD: "ml-prod"},
                new_account_ids={Stage.DEV: "444444444441", Stage.PREPROD: "444444444442", Stage.PROD: "444444444443"},
                alarm_emails=("ml-oncall@example.com",))

# Every platform stack of a new VPC has a log key, a flow-log group and an access-log bucket.
PER_PLATFORM = 3

pytestmark = pytest.mark.xdist_group("stability")


def _platforms(templates: dict[str, dict]) -> int:
    return sum(name.endswith("-platform") for name in templates)


def is_stateful(resource_type: str) -> bool:
    return resource_type in STATEFUL_TYPES or resource_type.startswith(STATEFUL_PREFIXES)


def stateful(template: dict) -> dict[str, dict]:
    return {logical_id: {key: resource.get(key) for key in COMPARED}
            for logical_id, resource in template["Resources"].items() if is_stateful(resource["Type"])}


@pytest.fixture(scope="module")
def plus_one_team(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("plus-one-team")
    path = folder / "org.yaml"
    path.write_text(edited_text(DEFAULT.read_text(), ADDED, load_config(DEFAULT)))
    return load_templates(synth(load_config(path), folder / "cdk.out"))


@pytest.fixture(scope="module")
def minus_one_team(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("minus-one-team")
    yaml = YAML(typ="rt")
    doc = yaml.load(DEFAULT.read_text())
    del doc["teams"][0]
    with (folder / "org.yaml").open("w") as out:
        yaml.dump(doc, out)
    return load_templates(synth(load_config(folder / "org.yaml"), folder / "cdk.out"))


def changed_stateful(before: dict[str, dict], after: dict[str, dict]) -> tuple[list[str], int]:
    """What changed in the stateful resources of the stacks in both, and how many were compared."""
    problems, compared = [], 0
    for stack in sorted(before.keys() & after.keys()):
        old, new = stateful(before[stack]), stateful(after[stack])
        problems += [f"{stack}/{i}: {old[i]['Type']} gone or renamed" for i in sorted(old.keys() - new.keys())]
        problems += [f"{stack}/{i}: {new[i]['Type']} appeared" for i in sorted(new.keys() - old.keys())]
        for logical_id in sorted(old.keys() & new.keys()):
            compared += 1
            differing = [k for k in COMPARED if old[logical_id][k] != new[logical_id][k]]
            if differing:
                problems.append(f"{stack}/{logical_id}: {', '.join(differing)} changed")
    return problems, compared


def test_adding_a_team_changes_no_existing_stateful_resource(default_templates, plus_one_team) -> None:
    assert {"fmops-ml-dev-platform", "fmops-ml-dev-ml", "fmops-ml-prod-ml"} <= plus_one_team.keys()
    assert default_templates.keys() <= plus_one_team.keys()
    problems, compared = changed_stateful(default_templates, plus_one_team)
    assert not problems
    assert compared >= PER_PLATFORM * _platforms(default_templates)


def test_removing_a_team_changes_no_other_stateful_resource(default_templates, minus_one_team) -> None:
    assert {n for n in minus_one_team if n.startswith("fmops-risk-")} == \
        {f"fmops-risk-{stage}-platform" for stage in Stage}, "only the team's stacks are gone"
    assert "fmops-genai-dev-genai" in minus_one_team and "fmops-risk-dev-platform" in minus_one_team
    problems, compared = changed_stateful(default_templates, minus_one_team)
    assert not problems
    assert compared >= PER_PLATFORM * _platforms(minus_one_team)


def test_every_stateful_resource_is_retained(default_templates, plus_one_team, minus_one_team) -> None:
    seen, not_retained = 0, []
    for templates in (default_templates, plus_one_team, minus_one_team):
        for stack, template in templates.items():
            for logical_id, resource in stateful(template).items():
                seen += 1
                if resource["DeletionPolicy"] != "Retain":
                    not_retained.append(f"{stack}/{logical_id} ({resource['Type']}): {resource['DeletionPolicy']}")
    assert seen and not not_retained
