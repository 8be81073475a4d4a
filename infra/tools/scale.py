"""Generated organisations of any size, for the scale tests and `make bench`."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from ruamel.yaml import YAML

PROFILES = (
    ["studio", "pipelines", "hosting", "service-catalog"],
    ["studio", "pipelines", "hosting", "bedrock", "bedrock-agents", "service-catalog", "private-api"],
)
STAGES = (("dev", 2), ("preprod", 3), ("prod", 3))


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
                             "features": PROFILES[t % 2]})
    return {
        "organisation": {"name": "scale", "mode": "organisation", "region": "eu-west-1",
                         "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]},
        "accounts": accounts,
        "teams": team_entries,
    }


def write_generated_config(teams: int, path: Path) -> Path:
    yaml = YAML()
    with path.open("w") as handle:
        yaml.dump(generated_config(teams), handle)
    return path
