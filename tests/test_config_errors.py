"""Every config error is one line ``file:line: field: message`` on the user's own line: encoding
and YAML errors, empty and non-mapping files, values reached through aliases; enum messages list
the values exactly as the user writes them."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError
from ruamel.yaml import YAML

from infra.cli import main as fmops
from infra.config import DEFAULT_CONFIG, ConfigError, OrgConfig, load_config
from infra.config.loader import validation_issues

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TEXT = DEFAULT_CONFIG.read_text()
LINE = re.compile(r"^[^:]+:\d+: \S.*: .+$")


def errors(tmp_path: Path, data: str | bytes) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    for line in lines:
        assert line.startswith(f"{path}:") and LINE.match(line), line
    return lines


def line_no(message: str) -> int:
    return int(message.split(":")[1])


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- encoding and YAML -------------------------------------------------------------------------

def test_non_utf8_byte_is_one_error_on_its_line(tmp_path):
    data = DEFAULT_TEXT.encode().replace(b"cost_centre: CC-2001", b"cost_centre: CC-\xff2001")
    [message] = errors(tmp_path, data)
    assert line_no(message) == line_of(DEFAULT_TEXT, "cost_centre: CC-2001")
    assert "0xff" in message and "UTF-8" in message


@pytest.mark.parametrize("command", [["validate"], ["onboard-team", "ml", "--cost-centre", "CC-1", "--features",
                                                    "studio", "--accounts", "dev=risk-dev", "--config"]])
def test_non_utf8_byte_exits_2_without_traceback(tmp_path, command):
    path = tmp_path / "config.yaml"
    data = DEFAULT_TEXT.encode().replace(b"- name: risk\n", b"- name: r\xe9sk\n")
    path.write_bytes(data)
    result = subprocess.run([sys.executable, "-m", "infra.cli", *command, str(path)], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    located = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert len(located) == 1 and line_no(located[0]) == data[:data.index(b"\xe9")].count(b"\n") + 1, result.stderr
    assert path.read_bytes() == data


@pytest.mark.parametrize(("text", "line", "part"), [
    ("organisation: [unclosed\naccounts: []\n", 2, "not valid YAML"),
    ("organisation:\n  name: a: b\n", 2, "mapping values are not allowed"),
    ("organisation:\n\tname: x\n", 2, "not valid YAML"),
    ("a: *nothing\n", 1, "undefined alias"),
    ("organisation: {}\n---\naccounts: []\n", 2, "another document"),
    ("organisation: {}\naccounts: []\norganisation: {}\n", 3, "duplicate key 'organisation'"),
    ("organisation:\n  name: x\n  name: y\n", 3, "duplicate key 'name'"),
    ("organisation:\n  founded: 2001-13-45\n", 2, "cannot read this value"),
    ("organisation:\n  name: !!int x\n", 2, "cannot read this value"),
    ("organisation:\n  name: '\x07'\n", 2, "not allowed in YAML"),
    ("", 1, "the file is empty"),
    ("# only a comment\n", 1, "the file is empty"),
    ("- a list\n", 1, "holds a list"),
    ("\n\njust text\n", 3, "holds the value 'just text'"),
])
def test_yaml_problems_are_one_located_line(tmp_path, text, line, part):
    [message] = errors(tmp_path, text)
    assert line_no(message) == line and part in message, message


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "organisation: &x {name: *x}\n", "organisation: &x [1, *x]\n"])
def test_recursive_aliases_are_located_errors(tmp_path, text):
    assert errors(tmp_path, text)


def test_error_through_an_alias_is_reported_where_the_alias_is_used(tmp_path):
    text = DEFAULT_TEXT.replace("    network: {cidr: 10.0.0.0/20, az_count: 2}\n",
                                "    network: &small {cidr: 10.0.0.0/20, az_count: 2, colour: blue}\n", 1)
    text = text.replace("    network: {cidr: 10.1.0.0/20, az_count: 2}\n", "    network: *small\n", 1)
    lines = errors(tmp_path, text)
    assert line_no(lines[0]) == line_of(text, "&small")
    alias = [m for m in lines if "accounts[1]" in m and "colour" in m]
    assert alias and line_no(alias[0]) == line_of(text, "network: *small"), lines


def test_error_in_merged_keys_is_reported_on_the_merging_mapping(tmp_path):
    text = DEFAULT_TEXT.replace("  log_retention_days: 365\n", "  log_retention_days: 365\n  defaults: &d {x: 1}\n", 1)
    text = text.replace("    network: {cidr: 10.1.0.0/20, az_count: 2}\n",
                        "    network:\n      <<: *d\n      cidr: 10.1.0.0/20\n      az_count: 2\n", 1)
    lines = errors(tmp_path, text)
    merged = [m for m in lines if "accounts[1]" in m and ".x:" in m]
    assert merged and line_no(merged[0]) == line_of(text, "<<: *d") - 1, lines


def test_non_string_key_is_located(tmp_path):
    [message] = errors(tmp_path, DEFAULT_TEXT.replace("  log_retention_days: 365\n", "  log_retention_days: 365\n  7: x\n"))
    assert line_no(message) == line_of(DEFAULT_TEXT, "log_retention_days") + 1 and "unknown key '7'" in message


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"absent.yaml:1: \(file\): cannot read config"):
        load_config(tmp_path / "absent.yaml")


# -- enum messages ------------------------------------------------------------------------------

def test_bad_filter_strength_lists_the_values_as_written(tmp_path):
    text = DEFAULT_TEXT.replace("misconduct: {input: HIGH, output: MEDIUM}", "misconduct: {input: high, output: MEDIUM}")
    [message] = errors(tmp_path, text)
    assert "write HIGH" in message and "NONE, LOW, MEDIUM, HIGH" in message, message
    assert "'high' is not allowed" in message and "input should be" not in message.lower(), message


def _choice_fields(model: type[BaseModel], seen: set[type] | None = None) -> dict[str, Any]:
    """``Model.field`` -> annotation of every field of the config models whose values are a fixed set."""
    seen = set() if seen is None else seen
    found: dict[str, Any] = {}
    if model in seen:
        return found
    seen.add(model)
    for name, field in model.model_fields.items():
        for part in _parts(field.annotation):
            if isinstance(part, type) and issubclass(part, BaseModel):
                found.update(_choice_fields(part, seen))
            elif (isinstance(part, type) and issubclass(part, Enum)) or typing.get_origin(part) is typing.Literal:
                found[f"{model.__name__}.{name}"] = part
    return found


def _parts(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Literal:
        return [annotation]
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _parts(args[0])
    return [part for arg in args for part in _parts(arg)] if args else [annotation]


CHOICE_FIELDS = _choice_fields(OrgConfig)


def test_every_choice_field_is_found():
    assert {"GenAi.cross_region_inference", "ContentFilter.input", "PiiPolicy.action", "Account.role",
            "Organisation.mode", "Team.features"} <= set(CHOICE_FIELDS)


@pytest.mark.parametrize("field", sorted(CHOICE_FIELDS))
def test_every_listed_value_is_accepted_as_written(field):
    adapter = TypeAdapter(CHOICE_FIELDS[field])
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python("no-such-value")
    [issue] = validation_issues(caught.value, None, "config.yaml")
    listed = issue.message.split("use one of: ", 1)[1].split(", ")
    assert len(listed) >= 2, issue.message
    for value in listed:
        adapter.validate_python(YAML(typ="rt").load(f"value: {value}\n")["value"])
    for value in listed:
        if isinstance(value, str) and value.swapcase() != value:
            with pytest.raises(ValidationError) as wrong_case:
                adapter.validate_python(value.swapcase())
            [issue] = validation_issues(wrong_case.value, None, "config.yaml")
            assert f"write {value} " in issue.message, issue.message


def test_fmops_validate_prints_one_line_per_error(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("organisation:\n  name: x\n  name: y\n")
    assert fmops(["validate", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["fmops: invalid config", f"{path}:3: name: duplicate key 'name' (the mapping starts on line 2); "
                   "keep only one of them"]


def test_enforced_guardrail_errors_name_the_value_and_the_fix(tmp_path):
    """organisation.enforced_guardrail takes the team guardrail's settings and their checks."""
    text = DEFAULT_TEXT.replace("organisation:\n", "organisation:\n  enforced_guardrail:\n    pii: {action: DROP}\n"
                                "    content_filters: {prompt_attack: {output: HIGH}}\n", 1)
    messages = errors(tmp_path, text)
    by_field = {m.split(": ")[1]: m for m in messages}
    pii = by_field["organisation.enforced_guardrail.pii.action"]
    assert "'DROP'" in pii and "BLOCK, ANONYMIZE" in pii and line_no(pii) == line_of(text, "pii: {action: DROP}")
    attack = by_field["organisation.enforced_guardrail.content_filters.prompt_attack.output"]
    assert "set output: NONE" in attack
