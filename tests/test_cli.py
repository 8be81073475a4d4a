"""The `fmops` parser tree: every command listed with a real help line, one invalid-config message."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import cli
from infra.config import DEFAULT_CONFIG
from tests.conftest import REPO

# Every command the tests, the Makefile and the docs call; renaming or dropping one breaks them.
COMMANDS = {"validate", "schema", "onboard-team", "verify-internet-free", "cfn-lint", "access-matrix", "classification", "scp",
            "summary", "select-fm", "provision", "projects", "bootstrap-commands", "docs", "diagram"}


def _subcommands() -> dict[str, str]:
    """Command name -> its line in `fmops --help`."""
    action = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {choice.dest: choice.help or "" for choice in action._choices_actions}


def _invalid_config(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_CONFIG.read_text().replace("region: eu-west-1", "region: mars-1"))
    return bad


def test_help_names_every_command_with_a_real_help_line(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    helps = _subcommands()
    assert set(helps) == COMMANDS
    for name, text in helps.items():
        assert len(text.split()) >= 4 and not text.lower().startswith("see "), f"{name}: placeholder help {text!r}"
        assert f"{name} {' '.join(text.split())}" in out, f"{name} is not listed with its help"


@pytest.mark.parametrize("name", sorted(COMMANDS - {"verify-internet-free"}))
def test_command_help_shows_its_arguments(name, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([name, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: fmops {name} ") and "-h, --help" in out


def test_verify_internet_free_passes_its_arguments_through(capsys):
    assert cli.main(["verify-internet-free", "--help"]) == 0
    assert "usage: fmops verify-internet-free PATH" in capsys.readouterr().out
    assert cli.main(["verify-internet-free"]) == 2


@pytest.mark.parametrize("argv", [["validate"], ["scp"], ["bootstrap-commands"]])
def test_every_config_command_reports_an_invalid_config_alike(argv, tmp_path, capsys):
    assert cli.main([*argv, str(_invalid_config(tmp_path))]) == 2
    err = capsys.readouterr().err
    first, *problems = err.splitlines()
    assert first == "fmops: invalid config"
    assert problems and all(line.startswith(f"{tmp_path / 'bad.yaml'}:") for line in problems)
    assert "organisation.region: unknown region 'mars-1'" in err and "Traceback" not in err


def test_app_py_reports_an_invalid_config_like_the_cli(tmp_path):
    bad = _invalid_config(tmp_path)
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"config": str(bad)}), "CDK_OUTDIR": str(tmp_path / "out")}
    result = subprocess.run([sys.executable, "app.py"], capture_output=True, text=True, cwd=REPO, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("fmops: invalid config\n") and "Traceback" not in result.stderr
    assert f"{bad}:" in result.stderr and "unknown region 'mars-1'" in result.stderr
