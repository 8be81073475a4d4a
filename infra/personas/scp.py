"""`fmops scp`: write the preventive SCP documents of a config to docs/scp/ (or check them)."""

from __future__ import annotations

from pathlib import Path

from infra.config import OrgConfig
from infra.plan.models import team_bedrock_models
from infra.personas import dumps, scp_documents

SCP_DIR = Path(__file__).resolve().parents[2] / "docs" / "scp"


def partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def organisation_model_arns(config: OrgConfig) -> list[str]:
    """Every Bedrock model ARN any team of the organisation may invoke: the SCP allow-list.

    An SCP applies to every account of its targets, so inference profiles are matched in any
    account (``*``); each team's boundary names its own account."""
    region = config.organisation.region
    return sorted({arn for team in config.teams for model in team_bedrock_models(config, team)
                   for arn in model.arn_patterns(partition_of(region), region, "*")})


def write_scp_documents(config: OrgConfig, check: bool = False) -> int:
    """`fmops scp [CONFIG] [--check]`: write the SCP documents of ``config``, or check them (exit 1 if stale)."""
    stale = []
    SCP_DIR.mkdir(parents=True, exist_ok=True)
    for name, document in scp_documents(organisation_model_arns(config)).items():
        path = SCP_DIR / f"{name}.json"
        if check:
            if not path.exists() or path.read_text() != dumps(document):
                stale.append(str(path))
        else:
            path.write_text(dumps(document))
            print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(stale)}; run `fmops scp`")
        return 1
    return 0
