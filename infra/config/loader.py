"""Loading a config file: ruamel.yaml (which keeps line numbers), then the pydantic models.

Every error is reported as ``file:line: field: message`` so the user sees the exact line to
change. :func:`load_config_or_exit` is the one "load the config or exit 2" that the ``fmops``
commands and ``app.py`` share.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from infra import REPO_ROOT
from infra.config.base import ConfigError, LocatedError
from infra.config.organisation import OrgConfig

DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"
EXIT_INVALID_CONFIG = 2


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _line_of(doc: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest key/item of ``loc`` that exists in the YAML document."""
    node, line = doc, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0]
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0]
            node = node[part]
        else:
            break
    return None if line is None else line + 1


def _field_path(loc: tuple[Any, ...], doc: Any) -> str:
    """Human path such as ``teams[1](name=risk).features[0]``."""
    out, node = "", doc
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            if isinstance(node, CommentedSeq) and part < len(node):
                node = node[part]
                if isinstance(node, CommentedMap) and "name" in node:
                    out += f"(name={node['name']})"
                continue
        else:
            out += ("." if out else "") + str(part)
        node = node.get(part) if isinstance(node, CommentedMap) else None
    return out or "(top level)"


def format_validation_error(exc: ValidationError, doc: Any, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedError):
            loc += cause.loc
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r} (typo?); see config/schema.json for the allowed keys"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "enum":
            msg = f"{err.get('input')!r} is not allowed; {msg.lower()}"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            msg = f"{err['input']!r}: {msg}"
        line = _line_of(doc, loc)
        where = f"{source}:{line}" if line else source
        lines.append(f"{where}: {_field_path(loc, doc)}: {msg}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None) -> OrgConfig:
    """Load and validate a config file; raise ConfigError with file:line messages on bad input."""
    source = Path(path) if path else DEFAULT_CONFIG
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read config ({exc.strerror})") from None
    try:
        doc = _yaml().load(text)
    except YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(doc, CommentedMap):
        raise ConfigError(f"{source}: the config must be a YAML mapping with organisation, accounts and teams")
    try:
        return OrgConfig.model_validate(to_plain(doc))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, doc, str(source))) from None


def to_plain(node: Any) -> Any:
    """ruamel containers to plain dicts/lists, so pydantic (or a comparison) sees ordinary Python values."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    return node


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
