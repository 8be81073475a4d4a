"""Predicates over candidate values (see ``intrinsics``): switches, required settings, enums
and internet address space.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from infra.compliance.internet_free.intrinsics import MISSING, is_intrinsic, show
from infra.compliance.internet_free.registry import Subject


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def is_absent(value: Any) -> bool:
    return value is MISSING or value is None or (isinstance(value, (str, list, dict)) and not value)


def may_be_true(candidates: list[Any]) -> bool:
    """A switch that is, or may be at deploy time, on."""
    return any(is_true(value) or is_intrinsic(value) for value in candidates)


def may_be_not_false(candidates: list[Any]) -> bool:
    """A switch that is not surely off (missing counts as on)."""
    return any(not is_false(value) for value in candidates)


def may_be_absent(candidates: list[Any]) -> bool:
    """A required setting missing or empty in some branch."""
    return any(is_absent(value) for value in candidates)


def may_be_other_than(candidates: list[Any], *allowed: Any) -> bool:
    """An enum that may take a value outside ``allowed`` (unknown counts as outside)."""
    return any(is_intrinsic(value) or value not in allowed for value in candidates)


def when(condition: bool, message: str) -> list[str]:
    """``[message]`` if ``condition`` holds, else no message."""
    return [message] if condition else []


def present(candidates: list[Any]) -> bool:
    return any(value is not MISSING for value in candidates)


_NON_INTERNET = tuple(
    ipaddress.ip_network(block)
    for block in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "255.255.255.255/32",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def internet_cidr(text: str) -> bool:
    """True if the CIDR or address reaches beyond private, shared, link-local and loopback space.

    ``255.255.255.255/32`` is the sentinel CDK writes for "no egress"; a malformed value counts
    as internet.
    """
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return True
    return not any(network.version == block.version and network.subnet_of(block) for block in _NON_INTERNET)


def internet_addresses(candidates: list[Any], template: dict, unknown_is_internet: bool) -> list[str]:
    """The candidates that reach the internet, shown for messages."""
    found = [value for value in candidates if value is not MISSING]
    return [
        show(value, template)
        for value in found
        if (unknown_is_internet if is_intrinsic(value) else internet_cidr(str(value)))
    ]


def no_vpc(s: Subject, *paths: tuple[str, ...]) -> bool:
    return any(may_be_absent(s.at(*path)) for path in paths)
