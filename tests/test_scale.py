"""A generated organisation synthesizes within CloudFormation's limits.

Every team of a generated organisation has its own dev, preprod and prod accounts, so the size
of a team's or an account's stacks does not depend on how many teams there are; the stacks that
serve the whole organisation (governance platform, package mirror) are admitted by
organisation id, not by account lists, so they do not grow either. Ten teams (31 accounts)
therefore cover every kind of stack at its full size while keeping `make test` short; one
pipeline's scoped synth in organisations of 1, 10 and 100 teams is measured by `make bench-scale`
(scripts/bench.py); tests/test_scoped_synth.py checks that scoped synth builds the same templates.
The organisation is synthesized once, in-process, with every compliance check.
"""

from __future__ import annotations

import time

import pytest

from infra.config import load_config
from infra.tools.report import MAX_RESOURCES, MAX_TEMPLATE_BYTES, StackInfo, stacks_in
from infra.tools.scale import PROFILES, STAGES, write_generated_config
from tests.conftest import synth

TEAMS = 10

pytestmark = pytest.mark.xdist_group("scale")


@pytest.fixture(scope="session")  # not module: xdist may run other modules between this group's tests
def scale_stacks(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[StackInfo], float]:
    folder = tmp_path_factory.mktemp("scale")
    config = load_config(write_generated_config(TEAMS, folder / f"org-{TEAMS}-teams.yaml"))
    start = time.perf_counter()
    synth(config, folder / "cdk.out")
    elapsed = time.perf_counter() - start
    print(f"\nsynth of {TEAMS} teams ({len(config.accounts)} accounts): {elapsed:.0f}s")
    return stacks_in(folder / "cdk.out"), elapsed


def test_every_stack_is_under_500_resources_and_1_mb(scale_stacks, record_property) -> None:
    stacks, elapsed = scale_stacks
    record_property("synth_seconds", round(elapsed, 1))
    too_big = [(s.name, s.resources, s.template_bytes) for s in stacks
               if s.resources >= MAX_RESOURCES or s.template_bytes >= MAX_TEMPLATE_BYTES]
    assert not too_big


def test_every_team_has_its_stacks_in_each_of_its_accounts(scale_stacks) -> None:
    names = {s.name for s in scale_stacks[0]}
    accounts = ["tooling"] + [f"team{t:03d}-{stage}" for t in range(TEAMS) for stage, _ in STAGES]
    missing_platform = [a for a in accounts if f"scale-{a}-platform" not in names]
    missing_team = [f"team{t:03d}-{stage}" for t in range(TEAMS) for stage, _ in STAGES
                    if f"scale-team{t:03d}-{stage}-team{t:03d}" not in names]
    missing_pipeline = [t for t in range(TEAMS) if f"scale-team{t:03d}-pipeline" not in names]
    assert not missing_platform and not missing_team and not missing_pipeline


def test_stacks_do_not_grow_with_the_organisation(scale_stacks):
    """Every team's pipeline has the same size, and the governance account's shared stacks stay
    within bounds: the organisation grows in stacks, not in stack size."""
    stacks = {s.name: s for s in scale_stacks[0]}
    pipelines = [s for name, s in stacks.items() if name.endswith("-pipeline")]
    assert len(pipelines) == TEAMS and len({s.resources for s in pipelines}) == 1
    for profile in range(len(PROFILES)):  # teams of a profile have the same stacks, so the same actions
        sizes = [stacks[f"scale-team{t:03d}-pipeline"].template_bytes for t in range(profile, TEAMS, len(PROFILES))]
        assert max(sizes) - min(sizes) < 0.02 * min(sizes), sizes
    assert stacks["scale-tooling-platform"].resources < 100 and stacks["scale-tooling-delivery"].resources < 20
