"""What the data lakes of a config share, resolved per account: who grants what to whom.

A declared grant (``teams[].data_lake.grants``) names a team of the config or an IAM principal.
For a team, the producer's account of each stage shares with the consumer team's account of the
same stage (dev with dev...; none where the consumer has no such stage): in another account the
Lake Formation principal is that account (cross-account sharing through AWS RAM) and the consumer
account's data-lake stack grants its data-consumer role on the shared tables; in the same account
(single-account mode) the principal is the data-consumer role itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import naming
from infra.config import Account, OrgConfig, Sensitivity, Stage, Team

TAG_TEAM, TAG_DOMAIN, TAG_SENSITIVITY = "team", "domain", "sensitivity"
"""The LF-tag keys of every account with a data lake."""

CONSUMER_PERSONA = "data-consumer"


@dataclass(frozen=True)
class DataShare:
    """One declared grant between two accounts (or within one)."""

    producer: str
    """The producing team."""
    producer_account: str
    """Its account id (the catalog of the tables)."""
    principal: str
    """Who the producer's Lake Formation grants: an account id, or a role ARN."""
    tags: tuple[tuple[str, tuple[str, ...]], ...]
    """The LF-tag expression of the shared tables."""
    permissions: tuple[str, ...]
    reason: str
    consumer: str | None = None
    """The consuming team, if the grant names one."""
    consumer_account: str | None = None
    consumer_role: str | None = None
    """The consuming team's data-consumer role ARN (its account grants it, cross-account)."""

    @property
    def cross_account(self) -> bool:
        return self.consumer_account is not None and self.consumer_account != self.producer_account

    def expression(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in self.tags}


def database_prefix(team: str) -> str:
    """Glue database names of a team: ``<team>_<zone>`` (Athena takes no '-' in names)."""
    return team.replace("-", "_") + "_"


def _consumer_account(config: OrgConfig, consumer: Team, stage: Stage | None, producer: Account) -> Account | None:
    if stage is None:  # single-account mode: the only account
        return producer
    name = consumer.accounts.by_stage().get(stage)
    return config.account(name) if name else None


def shares(config: OrgConfig) -> list[tuple[Account, DataShare]]:
    """Every declared grant, per producing account (with the stage it is in)."""
    org = config.organisation
    single = org.mode.value == "single-account"
    teams = {t.name: t for t in config.teams}
    found: list[tuple[Account, DataShare]] = []
    for team in config.teams:
        if not team.has_data_lake:
            continue
        for stage, account_name in team.accounts.by_stage().items():
            producer = config.account(account_name)
            for grant in team.data_lake.grants:
                tags = ((TAG_TEAM, (team.name,)), (TAG_DOMAIN, tuple(grant.domains)),
                        (TAG_SENSITIVITY, tuple(s.value for s in grant.sensitivity)))
                permissions = tuple(p.value for p in grant.permissions)
                if grant.principal is not None:
                    found.append((producer, DataShare(team.name, producer.id, grant.principal, tags, permissions,
                                                      grant.reason)))
                    continue
                consumer = teams[grant.consumer]  # type: ignore[index]
                target = _consumer_account(config, consumer, None if single else stage, producer)
                if target is None:
                    continue
                role = naming.role_arn("aws", target.id, naming.persona_role_name(org.name, consumer.name,
                                                                                  CONSUMER_PERSONA))
                principal = role if target.id == producer.id else target.id
                found.append((producer, DataShare(team.name, producer.id, principal, tags, permissions, grant.reason,
                                                  consumer=consumer.name, consumer_account=target.id,
                                                  consumer_role=role)))
            if single:
                break  # one account plays every stage: one share
    return found


def lake_tag_values(config: OrgConfig, account: Account) -> dict[str, list[str]]:
    """The LF-tags of ``account`` and their values: its data-lake teams and their domains."""
    teams = [t for t in config.teams_in(account) if t.has_data_lake]
    if not teams:
        return {}
    domains = sorted({d for t in teams for d in t.data_lake.domain_values(t.name)})
    return {TAG_TEAM: sorted(t.name for t in teams), TAG_DOMAIN: domains,
            TAG_SENSITIVITY: [s.value for s in Sensitivity]}
