"""A team's governed data lake: Glue Data Catalog databases, Lake Formation tags and the grants
its data owner declares (needs feature data-lake)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.base import ROLE_ARN, SLUG, LocatedError, Strict


class Sensitivity(StrEnum):
    """Values of the ``sensitivity`` LF-tag, least to most sensitive."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


class LakePermission(StrEnum):
    """Lake Formation table permissions a declared grant may give: read-only ones."""

    SELECT = "SELECT"
    DESCRIBE = "DESCRIBE"


class DataGrant(Strict):
    """Read access to the team's tables whose LF-tags match ``domains`` and ``sensitivity``, for
    another team's data consumers (``consumer``) or a named IAM role or account (``principal``).

    A grant to a team in another account goes through Lake Formation cross-account sharing (AWS
    RAM): the producing account grants the consumer's account, and the consumer team's data-lake
    stack grants its data-consumer role on the shared tables (deploy the producer first)."""

    consumer: Annotated[str | None, Field(pattern=SLUG)] = Field(
        default=None, description="Another team of this config whose data-consumer role gets the grant, in its "
        "account of the same stage (the team needs feature data-lake)")
    principal: Annotated[str | None, Field(pattern=ROLE_ARN)] = Field(
        default=None, description="An IAM role ARN (or arn:aws:iam::<account>:root) outside this config's teams")
    domains: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        min_length=1, max_length=10, description="Values of the domain LF-tag the grant covers (of data_lake.domains)")
    sensitivity: list[Sensitivity] = Field(
        default=[Sensitivity.PUBLIC, Sensitivity.INTERNAL], min_length=1,
        description="Values of the sensitivity LF-tag the grant covers; restricted data is never shared")
    permissions: list[LakePermission] = Field(
        default=[LakePermission.SELECT, LakePermission.DESCRIBE], min_length=1,
        description="Table permissions granted (read-only; no grant option)")
    reason: Annotated[str, Field(min_length=10, max_length=300)] = Field(
        description="Why the data is shared: the reviewer of the pull request reads it")

    @model_validator(mode="after")
    def _one_grantee(self) -> DataGrant:
        if (self.consumer is None) == (self.principal is None):
            raise LocatedError(("consumer",), "a grant names exactly one of consumer (a team of this config) or principal "
                               "(an IAM role ARN)")
        if Sensitivity.RESTRICTED in self.sensitivity:
            raise LocatedError(("sensitivity",), "sensitivity restricted is never shared; grant public, internal or "
                               "confidential, or lower the tables' sensitivity tag")
        for name, values in (("domains", self.domains), ("sensitivity", self.sensitivity),
                             ("permissions", self.permissions)):
            if len(set(values)) != len(values):
                raise LocatedError((name,), f"{name} has duplicates")
        return self

    @property
    def grantee(self) -> str:
        return f"team {self.consumer}" if self.consumer else str(self.principal)


class DataLake(Strict):
    """The team's data lake settings (feature data-lake): databases raw, curated and ml_results of
    the Glue Data Catalog on the lake/ prefix of the team bucket, LF-tags team, domain and
    sensitivity on them, and the read grants declared here (reviewed as code)."""

    domains: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list, max_length=20,
        description="Values of the domain LF-tag the team's tables may carry; default: the team name")
    default_sensitivity: Sensitivity = Field(
        default=Sensitivity.INTERNAL, description="Sensitivity LF-tag of the team's databases (inherited by new "
        "tables; the data owner retags a table to change it)")
    grants: list[DataGrant] = Field(default_factory=list, max_length=50,
                                    description="Read grants on the team's tagged tables (Lake Formation)")

    @model_validator(mode="after")
    def _no_duplicates(self) -> DataLake:
        if len(set(self.domains)) != len(self.domains):
            raise LocatedError(("domains",), "domains has duplicates")
        return self

    def domain_values(self, team: str) -> list[str]:
        return list(self.domains) or [team]
