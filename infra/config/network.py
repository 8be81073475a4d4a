"""The VPC of an account: a new isolated VPC (cidr and az_count) or an existing one (existing)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import LocatedError, Strict


class ExistingSubnet(Strict):
    id: Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$", description="Subnet ID")]
    availability_zone: str = Field(description="AZ of the subnet, e.g. eu-west-1a")
    route_table_id: Annotated[str, Field(pattern=r"^rtb-[0-9a-f]{8,17}$", description="Route table of the subnet")]


class ExistingVpc(Strict):
    """Bring-your-own VPC: nothing is looked up at synth time, every ID comes from here."""

    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
    cidr: str = Field(description="Primary IPv4 CIDR of the VPC")
    subnets: list[ExistingSubnet] = Field(min_length=2, description="Isolated subnets, at least two AZs")
    endpoints: Literal["create", "central"] = Field(
        default="create",
        description="'create' adds interface endpoints to this VPC; 'central' uses endpoints shared "
        "from a network account (Landing Zone Accelerator style) and creates none",
    )
    s3_gateway_endpoint_id: Annotated[str | None, Field(pattern=r"^vpce-[0-9a-f]{8,17}$")] = Field(
        default=None, description="Existing S3 gateway endpoint; required with endpoints: central"
    )

    @model_validator(mode="after")
    def _central_needs_s3_endpoint(self) -> ExistingVpc:
        if self.endpoints == "central" and not self.s3_gateway_endpoint_id:
            raise LocatedError(
                ("s3_gateway_endpoint_id",), "endpoints: central needs s3_gateway_endpoint_id (the bucket policies allow only that endpoint)"
            )
        return self


class Network(Strict):
    """Either a new isolated VPC (cidr + az_count) or an existing one (existing)."""

    cidr: str | None = Field(default=None, description="IPv4 CIDR of the new VPC, RFC 1918, /16 to /24")
    az_count: int | None = Field(default=None, description="AZs used by the new VPC (2 or 3)")
    existing: ExistingVpc | None = None

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return _private_cidr(value)

    @model_validator(mode="after")
    def _one_mode(self) -> Network:
        if self.existing is not None:
            if self.cidr is not None or self.az_count is not None:
                raise LocatedError(("existing",), "give either existing or cidr/az_count, not both")
            try:
                _private_cidr(self.existing.cidr, *EXISTING_PREFIXES)
            except ValueError as error:
                raise LocatedError(("existing", "cidr"), str(error)) from None
        elif self.cidr is None or self.az_count is None:
            raise LocatedError(("cidr" if self.cidr is None else "az_count",), "a new VPC needs both cidr and az_count (or use existing: for your own VPC)")
        elif not 2 <= self.az_count <= 3:
            raise LocatedError(("az_count",), f"az_count {self.az_count} is not allowed: use 2 or 3")
        return self

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(self.existing.cidr if self.existing else self.cidr)


# The private ranges of RFC 1918: the only ones the app's VPCs use. Python's ``is_private`` also
# admits special-purpose ranges (RFC 6890), which a VPC must not use; they are named in the error.
RFC_1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
SPECIAL_RANGES = {ipaddress.ip_network(n): what for n, what in (
    ("0.0.0.0/8", "'this network'"), ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local (instance metadata, DNS)"),
    ("192.0.0.0/24", "IETF protocol assignments"), ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("198.18.0.0/15", "benchmarking"), ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"))}
# An existing VPC's primary CIDR is one AWS accepted: /16 to /28 (VPC User Guide, "VPC CIDR blocks").
EXISTING_PREFIXES = (16, 28)


def _private_cidr(value: str, min_prefix: int = 16, max_prefix: int = 24) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 network CIDR ({exc}); example: 10.10.0.0/20") from None
    if net.version != 4 or not any(net.subnet_of(private) for private in RFC_1918):
        special = next((f" ({what}: {n})" for n, what in SPECIAL_RANGES.items() if net.version == 4 and net.overlaps(n)), "")
        raise ValueError(f"{value!r} is not a private (RFC 1918) IPv4 range{special}; use 10.0.0.0/8, 172.16.0.0/12 or "
                         "192.168.0.0/16")
    if not min_prefix <= net.prefixlen <= max_prefix:
        raise ValueError(f"{value!r} has prefix /{net.prefixlen}; allowed is /{min_prefix} to /{max_prefix}")
    return value
