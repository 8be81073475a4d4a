"""Generated organisations of any size, for the scale tests and `make bench`, and the verdict of
`make bench-scale` on one pipeline's scoped synth (flat in the number of teams or not)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from ruamel.yaml import YAML

PROFILES = (
    ["studio", "pipelines", "hosting", "service-catalog"],
    ["studio", "pipelines", "hosting", "bedrock", "bedrock-agents", "service-catalog", "private-api"],
)
STAGES = (("dev", 2), ("preprod", 3), ("prod", 3))
SCOPED_GROUP = "team000"
"""The pipeline `make bench-scale` synthesizes at every size: the same team with the same features."""
FLAT_TOLERANCE = 0.15
"""Flat: at the largest size, time and peak memory at most 15% above the smallest size's (the
generated config and the plan are read whole, so a little growth remains; 15% also absorbs the
noise of a shared machine)."""


def _cidr(index: int) -> str:
    return str(list(ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=20))[index])


def generated_config(teams: int) -> dict:
    """An organisation with one governance account and ``teams`` teams, each with its own
    dev, preprod and prod accounts, features alternating between the two default profiles."""
    accounts = [{"name": "tooling", "id": "100000000000", "role": "governance",
                 "features": ["pipelines", "service-catalog"], "network": {"cidr": _cidr(0), "az_count": 2}}]
    team_entries = []
    for t in range(teams):
        name = f"team{t:03d}"
        for s, (stage, azs) in enumerate(STAGES):
            index = 1 + 3 * t + s
            accounts.append({"name": f"{name}-{stage}", "id": f"{200000000000 + index:012d}", "role": "workload",
                             "stage": stage, "network": {"cidr": _cidr(index), "az_count": azs}})
        team_entries.append({"name": name, "cost_centre": f"CC-{t:04d}",
                             "accounts": {stage: f"{name}-{stage}" for stage, _ in STAGES},
                             "features": PROFILES[t % 2], "alarms": {"emails": [f"{name}-oncall@example.com"]}})
    return {
        # With an organisation ID, as a real organisation of this size has (and as config/default.yaml
        # does): shared services admit the organisation by it, not by a list of every account.
        "organisation": {"name": "scale", "mode": "organisation", "aws_organization_id": "o-scaleorg001",
                         "region": "eu-west-1",
                         "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]},
        "accounts": accounts,
        "teams": team_entries,
    }


def write_generated_config(teams: int, path: Path) -> Path:
    yaml = YAML()
    with path.open("w") as handle:
        yaml.dump(generated_config(teams), handle)
    return path


def flatness(rows: list[dict], *, memory_limit_mib: int) -> tuple[bool, str]:
    """Verdict on scoped-synth rows (``teams``, ``synth_s``, ``peak_mib``, smallest size first):
    flat in time and memory (:data:`FLAT_TOLERANCE`), and peak memory within the build instance's
    half (room for pip and npm, which the Build step runs before the synth)."""
    first, last = rows[0], rows[-1]
    time_ratio, memory_ratio = last["synth_s"] / first["synth_s"], last["peak_mib"] / first["peak_mib"]
    peak = max(row["peak_mib"] for row in rows)
    flat = time_ratio <= 1 + FLAT_TOLERANCE and memory_ratio <= 1 + FLAT_TOLERANCE
    fits = peak <= memory_limit_mib / 2
    return flat and fits, (
        f"{SCOPED_GROUP}'s pipeline synth at {last['teams']} teams vs {first['teams']}: time x{time_ratio:.2f}, "
        f"peak memory x{memory_ratio:.2f} ({'flat' if flat else 'NOT flat'}: at most x{1 + FLAT_TOLERANCE:.2f}); "
        f"largest peak {peak} MiB of the build instance's {memory_limit_mib} MiB "
        f"({'fits' if fits else 'does NOT fit'} in half of it)")
