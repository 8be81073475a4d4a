"""`fmops onboard-team`: add a team to a config file, validated, keeping the user's text.

    fmops onboard-team NAME --cost-centre CC --features studio,pipelines \\
        (--accounts dev=NAME[,preprod=NAME,prod=NAME] | --new-accounts dev=ID[,preprod=ID,prod=ID]) \\
        [--config config/default.yaml] [--dry-run]

``--accounts`` puts the team in existing workload accounts (teams share an account's VPC).
``--new-accounts`` also adds one workload account per stage, named ``<team>-<stage>``, with the
next free /20 CIDRs that overlap no other VPC of the config, and 2 AZs for dev, 3 for preprod
and prod (never more than the organisation's availability_zones).

Every line of the file stays as it was: the new entries are inserted as text at the end of the
``accounts`` and ``teams`` lists (before any comment that introduces the next section), in the
file's own indentation. The result is validated with ``infra.config`` before anything is
written, the app is built from it to list the stacks that will be created, and the file is
replaced atomically (temporary file + ``os.replace``). On any error nothing is written and the
exit code is 2. ``--dry-run`` prints the same plan and writes nothing.
"""

from __future__ import annotations

import io
import ipaddress
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from infra.config import ConfigError, ConfigIssue, OrgConfig, Stage, load_config, load_config_text
from infra.config.loader import to_plain

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
NEW_ACCOUNT_PREFIX = 20
AZS_BY_STAGE = {Stage.DEV: 2, Stage.PREPROD: 3, Stage.PROD: 3}
# (mapping, offset) pairs tried until one reproduces the file exactly; sequence = offset + 2.
INDENTS = ((2, 2), (2, 0), (4, 2), (4, 0), (2, 4), (4, 4))


class OnboardError(Exception):
    """Why the team cannot be added; ``str()`` is the message for the user."""


@dataclass(frozen=True)
class Request:
    team: str
    cost_centre: str
    features: list[str]
    accounts: dict[Stage, str]
    new_account_ids: dict[Stage, str]
    alarm_emails: tuple[str, ...] = ()


# -- arguments ------------------------------------------------------------------------------

def _stage_map(text: str, option: str) -> dict[Stage, str]:
    """``dev=a,preprod=b`` -> {Stage.DEV: 'a', Stage.PREPROD: 'b'}; dev is required."""
    found: dict[Stage, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        stage, sep, value = (piece.strip() for piece in part.partition("="))
        if not sep or not value or stage not in {s.value for s in Stage}:
            raise OnboardError(f"{option}: {part!r} is not STAGE=VALUE with STAGE one of dev, preprod, prod")
        if Stage(stage) in found:
            raise OnboardError(f"{option}: stage {stage} is given twice")
        found[Stage(stage)] = value
    if Stage.DEV not in found:
        raise OnboardError(f"{option}: dev=... is required (preprod and prod are optional)")
    return dict(sorted(found.items(), key=lambda item: list(Stage).index(item[0])))


def request_of(team: str, cost_centre: str, features: str, accounts: str | None = None,
               new_accounts: str | None = None, alarm_emails: tuple[str, ...] = ()) -> Request:
    """The request of the command-line values: ``features`` comma-separated, exactly one of
    ``accounts`` (``dev=NAME,...``) and ``new_accounts`` (``dev=ID,...``), and who receives the
    team's alarms."""
    names = [f.strip() for f in features.split(",") if f.strip()]
    if accounts:
        return Request(team, cost_centre, names, _stage_map(accounts, "--accounts"), {}, tuple(alarm_emails))
    ids = _stage_map(new_accounts or "", "--new-accounts")
    return Request(team, cost_centre, names, {stage: new_account_name(team, stage) for stage in ids}, ids,
                   tuple(alarm_emails))


def new_account_name(team: str, stage: Stage) -> str:
    return f"{team}-{stage}"


# -- the new entries ------------------------------------------------------------------------

def _flow(node: CommentedMap | CommentedSeq) -> CommentedMap | CommentedSeq:
    node.fa.set_flow_style()
    return node


def team_entry(request: Request) -> CommentedMap:
    entry = CommentedMap([
        ("name", request.team),
        ("cost_centre", request.cost_centre),
        ("accounts", _flow(CommentedMap((str(stage), name) for stage, name in request.accounts.items()))),
        ("features", _flow(CommentedSeq(request.features))),
    ])
    if request.alarm_emails:
        entry["alarms"] = _flow(CommentedMap([("emails", CommentedSeq(request.alarm_emails))]))
    return entry


def account_entries(request: Request, config: OrgConfig) -> list[CommentedMap]:
    """The new workload accounts, each with the next free CIDR and its stage's AZ count."""
    cidrs = free_cidrs([a.network.network for a in config.accounts], len(request.new_account_ids))
    zones = len(config.organisation.availability_zones)
    return [
        CommentedMap([
            ("name", request.accounts[stage]),
            ("id", DoubleQuotedScalarString(account_id)),
            ("role", "workload"),
            ("stage", str(stage)),
            ("network", _flow(CommentedMap([("cidr", str(cidr)), ("az_count", min(AZS_BY_STAGE[stage], zones))]))),
        ])
        for (stage, account_id), cidr in zip(request.new_account_ids.items(), cidrs)
    ]


def free_cidrs(used: list[ipaddress.IPv4Network], count: int) -> list[ipaddress.IPv4Network]:
    """The first ``count`` /20 networks of the private ranges that overlap nothing in ``used``."""
    chosen: list[ipaddress.IPv4Network] = []
    for candidate in _candidates():
        if len(chosen) == count:
            break
        if not any(candidate.overlaps(net) for net in [*used, *chosen]):
            chosen.append(candidate)
    if len(chosen) < count:
        raise OnboardError(f"no free /{NEW_ACCOUNT_PREFIX} left in {', '.join(PRIVATE_RANGES)}")
    return chosen


def _candidates() -> Iterator[ipaddress.IPv4Network]:
    for private in PRIVATE_RANGES:
        yield from ipaddress.ip_network(private).subnets(new_prefix=NEW_ACCOUNT_PREFIX)


def refuse_duplicates(request: Request, config: OrgConfig, source: str) -> None:
    if any(t.name == request.team for t in config.teams):
        raise OnboardError(f"{source}: team {request.team!r} already exists; choose another name "
                           "(or edit the existing entry)")
    for stage, account_id in request.new_account_ids.items():
        name = request.accounts[stage]
        for account in config.accounts:
            if account.name == name or account.id == account_id:
                raise OnboardError(f"{source}: --new-accounts {stage}: account {account.name} ({account.id}) "
                                   f"already exists; use --accounts {stage}={account.name} to put the team in it")


# -- text editing ---------------------------------------------------------------------------

def _yaml(mapping: int = 2, offset: int = 2) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def matching_yaml(text: str) -> YAML:
    """A round-trip YAML whose indentation reproduces ``text`` exactly (the first that does)."""
    for mapping, offset in INDENTS:
        yaml = _yaml(mapping, offset)
        if _dump(yaml, yaml.load(text)) == text:
            return yaml
    raise OnboardError("cannot keep the file's formatting (mixed indentation?); reindent it consistently first")


def append_to_list(text: str, doc: CommentedMap, key: str, items: list[CommentedMap], yaml: YAML) -> str:
    """``text`` with ``items`` appended to the top-level list ``key``; every existing line is kept."""
    if not items:
        return text
    lines = text.splitlines(keepends=True)
    block = _dump(yaml, {key: items}).splitlines(keepends=True)
    value = doc.get(key)
    if key not in doc:
        return text + ("" if text.endswith("\n") else "\n") + "\n" + "".join(block)
    start = doc.lc.key(key)[0]
    if not value:
        empty = re.fullmatch(rf"{re.escape(key)}:\s*(\[\s*\])?\s*(?P<comment>#.*)?\n?", lines[start])
        if not empty:
            raise OnboardError(f"line {start + 1}: cannot append to {key!r}; write it as `{key}:` with a block list")
        head = f"{key}:" + (f"  {empty['comment']}" if empty["comment"] else "") + "\n"
        return "".join(lines[:start] + [head] + block[1:] + lines[start + 1:])
    if not isinstance(value, CommentedSeq) or value.fa.flow_style():
        raise OnboardError(f"line {start + 1}: {key!r} is not a block list (one '- ' item per entry); rewrite it as one")
    last = _last_content_line(lines, start, _next_key_line(doc, key, len(lines)))
    spacer = ["\n"] if _items_separated_by_blank_lines(lines, value) else []
    return "".join(lines[: last + 1] + spacer + block[1:] + lines[last + 1:])


def _next_key_line(doc: CommentedMap, key: str, default: int) -> int:
    keys = list(doc)
    following = keys[keys.index(key) + 1:]
    return doc.lc.key(following[0])[0] if following else default


def _last_content_line(lines: list[str], start: int, end: int) -> int:
    """Last line of the list before ``end`` that is not blank and not a comment."""
    for index in range(end - 1, start, -1):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index
    return start


def _items_separated_by_blank_lines(lines: list[str], items: CommentedSeq) -> bool:
    first, last = items.lc.item(0)[0], items.lc.item(len(items) - 1)[0]
    return any(not line.strip() for line in lines[first:last])


LineOrigin = dict[int, int | None]
"""Line of the edited text -> the user's line it is (None: a line the command added)."""


def edited_text(text: str, request: Request, config: OrgConfig) -> str:
    """The new file: existing text plus the new accounts and the team, checked structurally."""
    return edit(text, request, config)[0]


def edit(text: str, request: Request, config: OrgConfig) -> tuple[str, LineOrigin]:
    """:func:`edited_text`, and where each of its lines comes from."""
    yaml = matching_yaml(text)
    doc = yaml.load(text)
    accounts = account_entries(request, config)
    team = team_entry(request)
    with_accounts = append_to_list(text, doc, "accounts", accounts, yaml)
    new_text = append_to_list(with_accounts, yaml.load(with_accounts), "teams", [team], yaml)
    _check_only_appended(doc, yaml.load(new_text), {"accounts": accounts, "teams": [team]})
    first, second = _origin(text, with_accounts), _origin(with_accounts, new_text)
    return new_text, {line: None if was is None else first[was] for line, was in second.items()}


def _origin(before: str, after: str) -> LineOrigin:
    """Lines of ``after`` (``before`` with one block inserted or one line replaced by a block)
    -> their line in ``before``."""
    old, new = before.splitlines(), after.splitlines()
    prefix = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    origin: LineOrigin = {n: n for n in range(1, prefix + 1)}
    origin.update({n: None for n in range(prefix + 1, len(new) - suffix + 1)})
    origin.update({len(new) - k: len(old) - k for k in range(suffix)})
    return origin


def _check_only_appended(before: CommentedMap, after: CommentedMap, added: dict[str, list]) -> None:
    expected = {**to_plain(before), **{k: (to_plain(before.get(k)) or []) + to_plain(v) for k, v in added.items()}}
    if to_plain(after) != expected:
        raise OnboardError("internal error: the edited file differs from the original by more than the new "
                           "entries; nothing was written")


# -- the plan -------------------------------------------------------------------------------

def deployable_stacks(config: OrgConfig) -> dict[str, str]:
    """Stack name -> account id of every stack the app deploys for ``config`` (built, not synthesized)."""
    from aws_cdk import Stack

    from infra.app.builder import build_app, new_app

    app = build_app(config, new_app(), checks=False)
    return {
        node.stack_name: node.account
        for node in app.node.find_all()
        if Stack.is_stack(node) and not any(Stack.is_stack(scope) for scope in node.node.scopes[:-1])
    }


def plan(before: OrgConfig, after: OrgConfig, request: Request) -> list[str]:
    """What adding the team creates and changes, one line each."""
    old, new = deployable_stacks(before), deployable_stacks(after)
    new_accounts = {request.accounts[stage] for stage in request.new_account_ids}
    lines = [f"team {request.team} (cost centre {request.cost_centre}; features {', '.join(request.features)}):"]
    for account in after.accounts:
        if account.name in request.accounts.values():
            created = sorted(s for s, account_id in new.items() if account_id == account.id and s not in old)
            state = "new account" if account.name in new_accounts else "existing account"
            lines.append(f"  {account.name} ({account.id}, {state}, {account.network.cidr or 'existing VPC'}): "
                         f"create {', '.join(created) or 'nothing'}")
    return lines + _endpoint_changes(before, after)


def _endpoint_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    from infra.plan import endpoints  # the plan imports the CDK constructs: only when a plan is printed

    changes = []
    for account in before.accounts:
        was = endpoints.account_interface_endpoints(before, account)
        now = endpoints.account_interface_endpoints(after, after.account(account.name))
        if now != was:
            changes.append(f"  {account.name}: its platform stack gains interface endpoints "
                           f"{', '.join(e for e in now if e not in was)}")
    return changes


# -- main -----------------------------------------------------------------------------------

def validated(text: str, path: Path, origin: LineOrigin, request: Request) -> OrgConfig:
    """Validate the edited ``text`` of ``path``. An error on a line of the user's file is reported
    on that line; one in the added entries names the command-line argument that caused it."""
    try:
        return load_config_text(text, str(path))
    except ConfigError as error:
        lines = []
        for issue in error.issues:
            user_line = origin.get(issue.line)
            if user_line is not None:
                lines.append(str(ConfigIssue(issue.source, user_line, issue.field, issue.message)))
            else:
                lines.append(f"{_argument_of(issue.field, request)}: {issue.field}: {issue.message}")
        raise OnboardError("the config with team added is not valid:\n" + "\n".join(lines)) from None


def _argument_of(field: str, request: Request) -> str:
    """The command-line argument behind a field of an added entry."""
    if field.startswith("accounts"):
        return "NAME" if field.endswith(").name") else "--new-accounts"
    for key, option in ((".cost_centre", "--cost-centre"), (".features", "--features"), (".alarms", "--alarm-email"),
                        (".accounts", "--new-accounts" if request.new_account_ids else "--accounts")):
        if key in field:
            return option
    return "NAME"


def write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def onboard(path: Path, request: Request, dry_run: bool = False) -> list[str]:
    """Check, edit, validate, plan and (unless dry run) write; the lines to print."""
    try:
        before = load_config(path)
        text = path.read_text(encoding="utf-8")
    except ConfigError as error:
        raise OnboardError(f"fix the config first:\n{error}") from None
    refuse_duplicates(request, before, str(path))
    try:
        new_text, origin = edit(text, request, before)
    except YAMLError as error:
        raise OnboardError(f"{path}: {' '.join(str(error).split())}") from None
    after = validated(new_text, path, origin, request)
    try:
        lines = plan(before, after, request)
    except Exception as error:  # the app itself cannot be built from the new config
        raise OnboardError(f"the app cannot be built with team {request.team}: {type(error).__name__}: {error}") from None
    if dry_run:
        return [*lines, f"dry run: {path} unchanged"]
    write_atomically(path, new_text)
    return [*lines, f"wrote {path}; next: npx cdk diff -c config={path}, then npx cdk deploy --all -c config={path}"]


def onboard_team(path: Path, team: str, cost_centre: str, features: str, accounts: str | None = None,
                 new_accounts: str | None = None, dry_run: bool = False, alarm_emails: tuple[str, ...] = ()) -> int:
    """`fmops onboard-team`: print the plan (and write the file); 2 with one message on any error."""
    try:
        lines = onboard(path, request_of(team, cost_centre, features, accounts, new_accounts, alarm_emails), dry_run)
    except OnboardError as error:
        print(f"fmops onboard-team: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
