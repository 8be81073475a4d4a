"""`fmops onboard-team`: validated edits that keep the user's text, refusals that write nothing."""

from __future__ import annotations

import difflib
import ipaddress
import shutil
from pathlib import Path

import pytest

from infra.cli import main as fmops
from infra.config import load_config
from infra.tools.onboard import edit, free_cidrs, request_of
from tests.conftest import REPO

NEW_IDS = "dev=444444444441,preprod=444444444442,prod=444444444443"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A copy of the embedded default organisation, alone in its folder."""
    return Path(shutil.copy(REPO / "config" / "default.yaml", tmp_path / "org.yaml"))


def onboard(config: Path, *args: str) -> int:
    return fmops(["onboard-team", "--config", str(config), *args])


def _removed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")]


COMMENTED = """\
# A small organisation, written by hand: its comments, quoting and layout must survive.
organisation:
  name: acme  # stack prefix
  mode: organisation
  region: eu-west-1
  availability_zones: [eu-west-1a, eu-west-1b, eu-west-1c]

accounts:
  - name: tooling
    id: "111111111111"  # governance
    role: governance
    network: {cidr: 10.0.0.0/20, az_count: 2}

  # Team one's accounts.
  - name: one-dev
    id: '222222222221'
    role: workload
    stage: dev
    network:
      cidr: 10.1.0.0/20
      az_count: 2

teams:
  # The first team.
  - name: one
    cost_centre: "CC-1"
    accounts: {dev: one-dev}
    features: [studio]  # more later

# Notes after the teams stay after them.
"""


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    """A small hand-written organisation (builds fast), alone in its folder."""
    path = tmp_path / "acme.yaml"
    path.write_text(COMMENTED)
    return path


def test_keeps_every_line_comment_and_quote(acme: Path) -> None:
    assert onboard(acme, "two", "--cost-centre", "CC-2", "--features", "studio,hosting", "--alarm-email", "two-oncall@example.com",
                   "--new-accounts", "dev=333333333331") == 0
    after = acme.read_text()
    assert not _removed_lines(COMMENTED, after)
    assert after.index("      az_count: 2\n\n  - name: two-dev\n") < after.index("\nteams:")
    assert after.index("features: [studio]  # more later\n  - name: two\n") < after.index("# Notes after the teams")
    assert 'id: "333333333331"' in after and "id: '222222222221'" in after
    loaded = load_config(acme)
    assert [a.name for a in loaded.accounts] == ["tooling", "one-dev", "two-dev"]
    assert [(t.name, t.cost_centre, t.accounts.dev) for t in loaded.teams] == [("one", "CC-1", "one-dev"),
                                                                               ("two", "CC-2", "two-dev")]


def test_adds_a_team_to_existing_accounts(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert onboard(acme, "ml", "--cost-centre", "CC-3001", "--features", "studio,bedrock",
                   "--accounts", "dev=one-dev") == 0
    assert not _removed_lines(COMMENTED, acme.read_text())
    team = load_config(acme).teams[-1]
    assert (team.name, team.cost_centre, [str(f) for f in team.features]) == ("ml", "CC-3001", ["studio", "bedrock"])
    assert team.accounts.by_stage() == {"dev": "one-dev"}
    out = capsys.readouterr().out
    [created] = [line for line in out.splitlines() if line.startswith("  one-dev (")]
    assert created.startswith("  one-dev (222222222221, existing account, 10.1.0.0/20): create ")
    assert "acme-one-dev-ml" in created and "-platform" not in created, "an existing account keeps its platform"
    assert "one-dev: its platform stack gains interface endpoints bedrock, bedrock-runtime" in out


def test_new_accounts_get_the_next_free_non_overlapping_cidrs(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert onboard(acme, "ml", "--cost-centre", "CC-3001", "--features", "studio", "--new-accounts", NEW_IDS) == 0
    after = load_config(acme)
    assert [(a.name, a.id, str(a.stage), a.network.cidr, a.network.az_count) for a in after.accounts[2:]] == [
        ("ml-dev", "444444444441", "dev", "10.0.16.0/20", 2),
        ("ml-preprod", "444444444442", "preprod", "10.0.32.0/20", 3),
        ("ml-prod", "444444444443", "prod", "10.0.48.0/20", 3)]
    networks = [a.network.network for a in after.accounts]
    assert not [(a, b) for i, a in enumerate(networks) for b in networks[i + 1:] if a.overlaps(b)]
    assert 'id: "444444444441"' in acme.read_text(), "account ids are written quoted"
    out = capsys.readouterr().out
    for account in ("ml-dev", "ml-preprod", "ml-prod"):
        assert f"  {account} (" in out and f"acme-{account}-platform" in out and f"acme-{account}-ml" in out


def test_first_team_of_a_config_without_teams(acme: Path) -> None:
    without_teams = COMMENTED[:COMMENTED.index("teams:")]
    acme.write_text(without_teams)
    assert onboard(acme, "ml", "--cost-centre", "CC-1", "--features", "studio", "--accounts", "dev=one-dev") == 0
    after = acme.read_text()
    assert after.startswith(without_teams) and after.endswith("teams:\n  - name: ml\n    cost_centre: CC-1\n"
                                                              "    accounts: {dev: one-dev}\n    features: [studio]\n")


def test_single_account_config_takes_the_team_in_its_account(tmp_path: Path) -> None:
    config = Path(shutil.copy(REPO / "config" / "single-account.yaml", tmp_path / "trial.yaml"))
    before = config.read_text()
    assert onboard(config, "ml", "--cost-centre", "CC-9", "--features", "studio", "--accounts", "dev=sandbox") == 0
    assert not _removed_lines(before, config.read_text())
    assert [t.name for t in load_config(config).teams] == ["pilot", "ml"]


@pytest.mark.parametrize(("args", "message"), [
    (["risk", "--cost-centre", "CC-1", "--features", "studio", "--accounts", "dev=risk-dev"],
     "team 'risk' already exists"),
    (["ml", "--cost-centre", "CC-1", "--features", "studio", "--new-accounts", "dev=222222222221"],
     "account risk-dev (222222222221) already exists"),
    (["ml", "--cost-centre", "CC-1", "--features", "studio,warp-drive", "--accounts", "dev=risk-dev"],
     "features[1]: 'warp-drive' is not allowed; use one of: studio, pipelines,"),
    (["ml", "--cost-centre", "CC-1", "--features", "studio", "--accounts", "dev=genai-prod"],
     "accounts.dev is 'genai-prod', a prod account"),
    (["ml", "--cost-centre", "CC-1", "--features", "studio", "--accounts", "prod=risk-prod"],
     "dev=... is required"),
    (["ml", "--cost-centre", "CC-1", "--features", "studio", "--new-accounts", "dev=12345"],
     "'12345' is not an AWS account ID"),
])
def test_refusals_exit_2_and_write_nothing(config: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                           message: str) -> None:
    before = config.read_bytes()
    assert onboard(config, *args) == 2
    assert message in capsys.readouterr().err
    assert config.read_bytes() == before
    assert [p.name for p in config.parent.iterdir()] == ["org.yaml"], "no temporary file left behind"


def test_error_in_the_added_entry_names_the_argument(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert onboard(config, "ml", "--cost-centre", "CC-1", "--features", "studio,warp-drive", "--accounts", "dev=risk-dev") == 2
    error = capsys.readouterr().err
    assert ".check" not in error and f"{config}:" not in error, "no line of a file the user never wrote"
    assert "--features: teams[2](name=ml).features[1]: 'warp-drive' is not allowed" in error, error


@pytest.mark.parametrize(("args", "option"), [
    (["--cost-centre", "CC 1 {bad}", "--features", "studio", "--accounts", "dev=risk-dev"], "--cost-centre"),
    (["--cost-centre", "CC-1", "--features", "studio", "--accounts", "dev=genai-prod"], "--accounts"),
    (["--cost-centre", "CC-1", "--features", "studio", "--new-accounts", "dev=12345"], "--new-accounts"),
])
def test_each_argument_is_named_for_its_error(config: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                             option: str) -> None:
    assert onboard(config, "ml", *args) == 2
    errors = [line for line in capsys.readouterr().err.splitlines()[1:]]
    assert errors and all(line.startswith(f"{option}: ") for line in errors), errors


def test_error_in_the_users_text_is_on_the_users_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Path(shutil.copy(REPO / "config" / "single-account.yaml", tmp_path / "trial.yaml"))
    assert onboard(config, "ml", "--cost-centre", "CC-9", "--features", "studio", "--new-accounts", "dev=444444444441") == 2
    [error] = capsys.readouterr().err.splitlines()[1:]
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1) if "mode: single-account" in text)
    assert error.startswith(f"{config}:{line}: organisation.mode: mode single-account takes exactly one account"), error


def test_lines_after_the_inserted_entries_map_back_to_the_users_file(acme: Path) -> None:
    text = acme.read_text()
    before = load_config(acme)
    request = request_of("ml", "CC-1", "studio", new_accounts="dev=444444444441")
    new_text, origin = edit(text, request, before)
    old_lines, new_lines = text.splitlines(), new_text.splitlines()
    assert len(new_lines) > len(old_lines)
    for number, line in enumerate(new_lines, 1):
        if origin[number] is not None:
            assert old_lines[origin[number] - 1] == line
    teams = new_lines.index("teams:") + 1
    assert origin[teams] == old_lines.index("teams:") + 1 and origin[teams] != teams
    added = [new_lines[n - 1] for n in origin if origin[n] is None]
    assert "  - name: ml-dev" in added and "  - name: ml" in added


def test_dry_run_prints_the_plan_and_writes_nothing(acme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert onboard(acme, "ml", "--cost-centre", "CC-1", "--features", "studio", "--new-accounts", NEW_IDS,
                   "--dry-run") == 0
    out = capsys.readouterr().out
    assert "acme-ml-dev-platform" in out and "10.0.16.0/20" in out and "dry run:" in out
    assert acme.read_text() == COMMENTED
    assert [p.name for p in acme.parent.iterdir()] == ["acme.yaml"]


def test_free_cidrs_skip_every_overlap() -> None:
    used = [ipaddress.ip_network(n) for n in ("10.0.0.0/20", "10.0.32.0/19", "10.0.16.0/24")]
    assert [str(n) for n in free_cidrs(used, 2)] == ["10.0.64.0/20", "10.0.80.0/20"]
