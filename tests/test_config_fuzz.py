"""Property-based tests: no mutation of the shipped configs makes the loader raise anything but
ConfigError, and every error is one located line ``file:line: ...``.

Mutations of the structure (a scalar, list or mapping replaced by random text, numbers, lists or
mappings; keys deleted or added) and of the text (duplicated lines, so duplicate keys; random bytes
and characters inserted; lines deleted; the file cut short). Seeded and bounded, so it is fast and
the same on every run.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from infra import REPO_ROOT
from infra.config import ConfigError, OrgConfig, load_config_text
from infra.config.loader import decode

SOURCE = "fuzz.yaml"
LOCATED = re.compile(r"^[^:]+:\d+: ")
TEXTS = [(REPO_ROOT / "config" / name).read_text() for name in ("default.yaml", "single-account.yaml")]
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _rt_load(text: str) -> Any:
    return YAML(typ="rt").load(text)


DOCS = [_rt_load(text) for text in TEXTS]
PATHS = [_paths(doc) for doc in DOCS]

scalars = st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                    st.sampled_from(["", "-", "*", "..", "/", "aws:x", "NONE", "eu-west-1z", "10.0.0.0/8",
                                     "999999999999", "fmops", "0x1F", "2001-01-01"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                      max_leaves=6)


def _check(text: str) -> None:
    try:
        load_config_text(text, SOURCE)
    except ConfigError as error:
        lines = str(error).splitlines()
        assert lines, "a ConfigError names at least one error"
        for line in lines:
            assert LOCATED.match(line), line


def _dump(doc: Any) -> str:
    from io import StringIO

    out = StringIO()
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.dump(doc, out)
    return out.getvalue()


def _set(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


@seed(14)
@SETTINGS
@given(which=st.integers(0, len(DOCS) - 1), data=st.data(), value=values, delete=st.booleans())
def test_structural_mutations_give_located_config_errors(which: int, data: st.DataObject, value: Any,
                                                          delete: bool) -> None:
    doc = copy.deepcopy(DOCS[which])
    path = data.draw(st.sampled_from(PATHS[which]))
    _set(doc, path, value, delete)
    _check(_dump(doc))


@seed(14)
@SETTINGS
@given(which=st.integers(0, len(DOCS) - 1), data=st.data(), extra=st.dictionaries(st.text(max_size=8), values, max_size=2))
def test_added_keys_give_located_config_errors(which: int, data: st.DataObject, extra: dict[str, Any]) -> None:
    doc = copy.deepcopy(DOCS[which])
    mappings = [p for p in PATHS[which] if isinstance(_get(doc, p), dict)] + [()]
    target = _get(doc, data.draw(st.sampled_from(mappings)))
    target.update(extra)
    _check(_dump(doc))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@seed(14)
@SETTINGS
@given(which=st.integers(0, len(TEXTS) - 1), data=st.data())
def test_text_mutations_give_located_config_errors(which: int, data: st.DataObject) -> None:
    lines = TEXTS[which].splitlines(keepends=True)
    kind = data.draw(st.sampled_from(["duplicate", "delete", "insert", "bytes", "cut"]))
    at = data.draw(st.integers(0, len(lines) - 1))
    raw: bytes
    if kind == "duplicate":
        raw = "".join(lines[:at + 1] + [lines[at]] + lines[at + 1:]).encode()
    elif kind == "delete":
        raw = "".join(lines[:at] + lines[at + 1:]).encode()
    elif kind == "cut":
        raw = "".join(lines)[:data.draw(st.integers(0, len("".join(lines))))].encode()
    else:
        text = "".join(lines)
        position = data.draw(st.integers(0, len(text)))
        if kind == "insert":
            raw = (text[:position] + data.draw(st.text(min_size=1, max_size=5)) + text[position:]).encode()
        else:
            encoded = text.encode()
            raw = encoded[:position] + data.draw(st.binary(min_size=1, max_size=4)) + encoded[position:]
    try:
        text = decode(raw, SOURCE)
    except ConfigError as error:
        assert all(LOCATED.match(line) for line in str(error).splitlines()), str(error)
        return
    _check(text)


def test_the_shipped_configs_are_valid() -> None:
    for text in TEXTS:
        assert isinstance(load_config_text(text, SOURCE), OrgConfig)
