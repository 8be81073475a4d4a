"""Loading a config file: ruamel.yaml (which keeps line numbers), then the pydantic models.

Every error is reported as one line ``file:line: field: message`` (a :class:`ConfigIssue`) on
the user's own line: encoding and YAML errors included, and an error inside a value that the
user reached through an alias (``*name``) on the line of the alias. :func:`load_config_or_exit`
is the one "load the config or exit 2" that the ``fmops`` commands and ``app.py`` share.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from infra import REPO_ROOT
from infra.config.base import ConfigError, ConfigIssue, LocatedError, Mode
from infra.config.organisation import OrgConfig

DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"
EXIT_INVALID_CONFIG = 2
FILE, SYNTAX, TOP = "(file)", "(yaml)", "(top level)"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


# -- where an error is ----------------------------------------------------------------------

def _child_key(node: CommentedMap, part: Any) -> Any:
    """The key of ``node`` that pydantic calls ``part`` (keys reach pydantic as strings)."""
    if part in node:
        return part
    return next((key for key in node if str(key) == str(part)), _MISSING)


_MISSING = object()


def _line_of(doc: Any, loc: tuple[Any, ...]) -> int:
    """1-based line of the deepest key/item of ``loc`` that the user wrote.

    Below a value reached through an alias the lines are the anchor's, elsewhere in the file, so
    the line stays on the alias: where the user used the value. Keys merged in with ``<<`` are
    reported on the mapping that merges them."""
    node, line, through_alias = doc, _first_line(doc), False
    for part in loc:
        if isinstance(node, CommentedMap):
            key = _child_key(node, part)
            if key is _MISSING:
                break
            child = node[key]
            if key in node.lc.data and not through_alias:
                line = node.lc.key(key)[0] + 1
            else:  # merged in from another mapping
                through_alias = True
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            child = node[part]
            if not through_alias:
                line = node.lc.item(part)[0] + 1
        else:
            break
        if isinstance(child, (CommentedMap, CommentedSeq)) and child.lc.line is not None and child.lc.line + 1 < line:
            through_alias = True  # the value starts before its key: an alias of an earlier anchor
        node = child
    return line


def _first_line(doc: Any) -> int:
    if isinstance(doc, (CommentedMap, CommentedSeq)) and doc.lc.line is not None:
        return doc.lc.line + 1
    return 1


def _field_path(loc: tuple[Any, ...], doc: Any) -> str:
    """Human path such as ``teams[1](name=risk).features[0]``."""
    out, node = "", doc
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            if isinstance(node, CommentedSeq) and 0 <= part < len(node):
                node = node[part]
                if isinstance(node, CommentedMap) and isinstance(node.get("name"), (str, int)):
                    out += f"(name={node['name']})"
                continue
        else:
            out += ("." if out else "") + str(part)
        key = _child_key(node, part) if isinstance(node, CommentedMap) else _MISSING
        node = None if key is _MISSING else node[key]
    return out or TOP


# -- messages ---------------------------------------------------------------------------------

def _choices(err: dict[str, Any]) -> list[str] | None:
    """The allowed values of an enum or literal error, as the user must write them."""
    ctx = err.get("ctx") or {}
    expected = ctx.get("expected")
    if not isinstance(expected, str):
        return None
    return [m.group(1) if m.group(1) is not None else m.group(2)
            for m in re.finditer(r"'((?:[^'\\]|\\.)*)'|(-?\d+(?:\.\d+)?)", expected)]


def _choice_message(value: Any, choices: list[str]) -> str:
    listed = ", ".join(choices)
    same = [c for c in choices if isinstance(value, str) and c.lower() == value.lower()]
    if same:
        return f"{value!r} is not allowed: the values are case-sensitive, write {same[0]} (one of: {listed})"
    return f"{value!r} is not allowed; use one of: {listed}"


def _message(err: dict[str, Any], loc: tuple[Any, ...]) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    choices = _choices(err) if err["type"] in ("enum", "literal_error") else None
    if err["type"] == "extra_forbidden":
        return f"unknown key {loc[-1]!r} (typo?); see config/schema.json for the allowed keys"
    if err["type"] == "missing":
        return "required field is missing"
    if choices:
        return _choice_message(err.get("input"), choices)
    if "input" in err and err["type"] not in ("value_error", "assertion_error"):
        return f"{_short(err['input'])}: {msg}"
    return msg


def _short(value: Any) -> str:
    """``repr`` of a rejected value, cut so that the error stays one readable line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validation_issues(exc: ValidationError, doc: Any, source: str) -> list[ConfigIssue]:
    issues = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedError):
            loc += cause.loc
        message = " ".join(_message(err, loc).split())  # one line, whatever the value held
        issues.append(ConfigIssue(source, _line_of(doc, loc), _field_path(loc, doc), message))
    return issues


def format_validation_error(exc: ValidationError, doc: Any, source: str) -> str:
    return "\n".join(str(issue) for issue in validation_issues(exc, doc, source))


# -- reading and parsing ------------------------------------------------------------------------

def decode(data: bytes, source: str) -> str:
    """The file's text; a byte that is not UTF-8 is one error on its line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError([ConfigIssue(source, line, FILE, f"byte 0x{data[exc.start]:02x} at column "
                                       f"{exc.start - line_start + 1} is not UTF-8; save the file as UTF-8")]) from None


def parse(text: str, source: str) -> CommentedMap:
    """The YAML mapping of ``text``; every YAML problem is one error on its line."""
    try:
        doc = _yaml().load(text)
    except YAMLError as exc:
        raise ConfigError([_yaml_issue(exc, text, source)]) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar ruamel cannot construct (a date, !!int)
        raise ConfigError([ConfigIssue(source, _unconstructible_line(text), SYNTAX,
                                       f"cannot read this value ({' '.join(str(exc).split())}); quote it if it is text")]) from None
    if doc is None:
        raise ConfigError([ConfigIssue(source, 1, TOP, "the file is empty; a config is a mapping with "
                                       "organisation, accounts and teams (see config/default.yaml)")])
    if not isinstance(doc, CommentedMap):
        kind = "a list" if isinstance(doc, CommentedSeq) else f"the value {_short(doc)}"
        line = _first_line(doc) if isinstance(doc, CommentedSeq) else _first_content_line(text)
        raise ConfigError([ConfigIssue(source, line, TOP, f"the file holds {kind}; a config is a "
                                       "mapping with organisation, accounts and teams (see config/default.yaml)")])
    return doc


def _first_content_line(text: str) -> int:
    lines = text.splitlines()
    return next((n for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith(("#", "---"))), 1)


def _yaml_issue(exc: YAMLError, text: str, source: str) -> ConfigIssue:
    if isinstance(exc, ReaderError):
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        return ConfigIssue(source, line, FILE, f"character {exc.character!r} is not allowed in YAML: remove it")
    if not isinstance(exc, MarkedYAMLError):
        return ConfigIssue(source, 1, SYNTAX, " ".join(str(exc).split()))
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem = " ".join(str(exc.problem or exc.context or "not valid YAML").split())
    duplicate = re.match(r'found duplicate key "(.*)" with value', problem)
    if duplicate:
        first = exc.context_mark.line + 1 if exc.context_mark is not None else None
        where = f" (the mapping starts on line {first})" if first else ""
        return ConfigIssue(source, line, duplicate[1], f"duplicate key {duplicate[1]!r}{where}; keep only one of them")
    context = f" ({' '.join(exc.context.split())})" if exc.context and exc.problem else ""
    column = f" at column {mark.column + 1}" if mark is not None else ""
    return ConfigIssue(source, line, SYNTAX, f"not valid YAML{column}: {problem}{context}")


def _unconstructible_line(text: str) -> int:
    """Line of the first scalar that ruamel cannot turn into a value (its parser found no error)."""
    yaml = _yaml()
    try:
        root = yaml.compose(text)
    except YAMLError:
        return 1
    pending = [root]
    while pending:
        node = pending.pop(0)
        if isinstance(node, MappingNode):
            pending[:0] = [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            pending[:0] = list(node.value)
        elif isinstance(node, ScalarNode):
            try:
                _yaml().constructor.construct_object(node, deep=True)
            except Exception:  # noqa: BLE001 - any failure is the value the user must fix
                return node.start_mark.line + 1
    return 1


def to_plain(node: Any, _active: frozenset[int] = frozenset()) -> Any:
    """ruamel containers to plain dicts/lists, so pydantic (or a comparison) sees ordinary Python values."""
    if isinstance(node, (dict, list)):
        if id(node) in _active:
            raise RecursionError("an alias refers to the value that contains it")
        inner = _active | {id(node)}
        if isinstance(node, dict):
            return {str(k): to_plain(v, inner) for k, v in node.items()}
        return [to_plain(v, inner) for v in node]
    return node


def load_config_text(text: str, source: str) -> OrgConfig:
    """Validate the config ``text`` of file ``source``; raise ConfigError with one issue per error."""
    doc = parse(text, source)
    try:
        plain = to_plain(doc)
    except RecursionError:
        raise ConfigError([ConfigIssue(source, 1, SYNTAX, "an alias refers to the value that contains it; "
                                       "a config cannot be recursive")]) from None
    try:
        return OrgConfig.model_validate(plain)
    except ValidationError as exc:
        raise ConfigError(validation_issues(exc, doc, source)) from None


def load_config(path: str | Path | None = None) -> OrgConfig:
    """Load and validate a config file; raise ConfigError with file:line messages on bad input."""
    source = Path(path) if path else DEFAULT_CONFIG
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(source), 1, FILE, f"cannot read config ({exc.strerror})")]) from None
    return load_config_text(decode(data, str(source)), str(source))


def issue_at(path: str | Path | None, loc: tuple[Any, ...], message: str) -> ConfigIssue:
    """The ``file:line: field: message`` issue of a field of a valid config that the app finds
    wrong when it builds (e.g. a declared project's parameters, checked against the synthesized
    template)."""
    source = Path(path) if path else DEFAULT_CONFIG
    doc = parse(decode(source.read_bytes(), str(source)), str(source))
    return ConfigIssue(str(source), _line_of(doc, loc), _field_path(loc, doc), message)


def config_warnings(path: str | Path, config: OrgConfig) -> list[str]:
    """``file:line: field: warning: message`` for settings of a valid config that deploy but leave a
    control without effect."""
    source = str(path)
    doc = parse(decode(Path(path).read_bytes(), source), source)
    warnings = []
    org = config.organisation
    if org.mode is Mode.ORGANISATION and not org.scp_target_ids:
        loc = ("organisation", "scp_target_ids")
        warnings.append(f"{source}:{_line_of(doc, loc)}: {'.'.join(loc)}: warning: no attachment target: the "
                        "governance stack creates the SCPs but attaches them to nothing; list the OUs or "
                        "accounts of the workload accounts")
    return warnings


class InvalidConfigExit(SystemExit):
    """Raised by :func:`load_config_or_exit` after the errors are printed; its code is 2."""


def load_config_or_exit(path: str | Path | None = None) -> OrgConfig:
    """:func:`load_config`, or print ``fmops: invalid config`` and the ``file:line`` errors to
    stderr and raise :class:`InvalidConfigExit` (exit status 2, no traceback)."""
    try:
        return load_config(path)
    except ConfigError as error:
        print(f"fmops: invalid config\n{error}", file=sys.stderr)
        raise InvalidConfigExit(EXIT_INVALID_CONFIG) from None
