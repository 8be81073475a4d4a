"""The organisation the resource and supply-chain perimeters admit: exact accounts and organisation ID.

They come from the config (the synth gate, ``fmops verify-internet-free --config``) or from flags
(``--account``, ``--organization-id``), never from the templates under check, so "outside" is
never a guess. The template's own account (``AWS::AccountId``) is always inside; without an
organisation it is the only account inside, and every literal account ID is outside.

The AWS-owned image registries (the accounts of SageMaker's, Deep Learning Containers' and the
other AWS-provided images) come from the SageMaker Python SDK's bundled image URI data.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SELF_ACCOUNT = "{self}"
"""How ``intrinsics.texts`` shows ``AWS::AccountId``: the account the template is deployed in."""

ACCOUNT_ID = re.compile(r"\d{12}")
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")


@dataclass(frozen=True)
class Organisation:
    """The accounts and the AWS Organizations ID that are inside the perimeter."""

    accounts: frozenset[str] = frozenset()
    organization_id: str | None = None

    def __post_init__(self) -> None:
        bad = sorted(a for a in self.accounts if not ACCOUNT_ID.fullmatch(a))
        if bad:
            raise ValueError(f"not a 12-digit account ID: {', '.join(bad)}")
        if self.organization_id is not None and not ORGANIZATION_ID.fullmatch(self.organization_id):
            raise ValueError(f"not an organization ID (o-...): {self.organization_id}")

    @classmethod
    def of(cls, config: Any) -> Organisation:
        """The organisation of a loaded config (an ``OrgConfig``: its accounts and aws_organization_id)."""
        return cls(frozenset(config.account_ids), config.organisation.aws_organization_id)

    def account_inside(self, text: str) -> bool:
        """True for the template's own account or one of the organisation's accounts (exact)."""
        return text == SELF_ACCOUNT or text in self.accounts

    def org_inside(self, text: str) -> bool:
        return self.organization_id is not None and text == self.organization_id

    def org_path_inside(self, text: str) -> bool:
        """An aws:PrincipalOrgPaths value (``o-x/r-y/ou-z/...``) under the organisation, without wildcards."""
        return (
            self.organization_id is not None
            and text.startswith(f"{self.organization_id}/")
            and not any(c in text for c in "*?")
        )

    def describe(self) -> str:
        org = self.organization_id or "no organization ID"
        return f"{org}, {len(self.accounts)} accounts"


UNKNOWN_ORGANISATION = Organisation()


def arn_account(arn: str) -> str | None:
    """The account field of an ARN (``arn:partition:service:region:account:...``), or None."""
    fields = arn.split(":", 5)
    return fields[4] if len(fields) >= 5 and fields[0] == "arn" else None


def principal_outside(text: str, organisation: Organisation) -> str | None:
    """Why an AWS principal (account ID, ``arn:...:iam::ACCOUNT:...`` or ``sts``) is outside, or None."""
    if text == "*":
        return None  # everyone: IF-POLICY-PUBLIC's case
    if ACCOUNT_ID.fullmatch(text) or text == SELF_ACCOUNT:
        account = text
    else:
        account = arn_account(text)
        if account is None:
            return f"principal {text} is not an account or ARN of the organisation"
    if any(c in account for c in "*?{"):
        return f"principal {text}: account may be any account" if "{?}" not in account or "*" in account \
            else f"principal {text}: account only known at deploy time"
    if not organisation.account_inside(account):
        return f"principal {text}: account {account} is outside the organisation"
    return None


@lru_cache(maxsize=1)
def aws_image_accounts() -> frozenset[str]:
    """Accounts of AWS-owned ECR registries, from the SageMaker Python SDK's image URI data."""
    spec = importlib.util.find_spec("sagemaker")  # finds the package without importing it (slow)
    if spec is None or spec.origin is None:  # pragma: no cover - the SDK is pinned in requirements.txt
        return frozenset()
    folder = Path(spec.origin).parent / "image_uri_config"
    found: set[str] = set()
    for path in folder.glob("*.json"):
        _registry_accounts(json.loads(path.read_text()), found)
    return frozenset(found)


def _registry_accounts(node: object, found: set[str]) -> None:
    if isinstance(node, dict):
        registries = node.get("registries")
        if isinstance(registries, dict):
            found.update(v for v in registries.values() if isinstance(v, str) and ACCOUNT_ID.fullmatch(v))
        for value in node.values():
            _registry_accounts(value, found)
    elif isinstance(node, list):
        for item in node:
            _registry_accounts(item, found)
