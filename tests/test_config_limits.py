"""What AWS would refuse at deploy time is refused at validate time, on the field to change."""

from __future__ import annotations

import json

import pytest

from infra.config import DEFAULT_CONFIG, ConfigError, load_config
from infra.config.limits import (AVAILABILITY_ZONES_FILE, MAX_CONFIG_TAGS, REGENERATE_ZONES, availability_zone_table,
                                 region_zones)

DEFAULT_TEXT = DEFAULT_CONFIG.read_text()
FALCON_WEIGHTS = "weights: falcon-7b-instruct/base/"
EXISTING = ("network:\n      existing:\n        vpc_id: vpc-0123456789abcdef0\n        cidr: {cidr}\n"
            "        subnets:\n"
            "          - {{id: subnet-0123456789abcdef0, availability_zone: eu-west-1a, route_table_id: rtb-0123456789abcdef0}}\n"
            "          - {{id: subnet-0123456789abcdef1, availability_zone: eu-west-1b, route_table_id: rtb-0123456789abcdef1}}\n")


def error_for(tmp_path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    return message


def tags(count: int) -> str:
    return "  tags:\n" + "".join(f"    tag{n}: v\n" for n in range(count))


CASES = [
    # names too long for what they become
    ("  name: fmops\n", "  name: fmops-long-org-name\n", "- name: genai\n",
     ["teams[1](name=genai-applications).name", "S3 bucket name", "has 6", "at most 63", "shorten the team name"]),
    # S3's reserved bucket prefixes, Cognito's reserved words
    ("  name: fmops\n", "  name: xn--fmops\n", None, ["organisation.name", "'xn--'"]),
    ("  name: fmops\n", "  name: laws\n", None, ["organisation.name", "Cognito domain prefix", "'aws'"]),
    # tags
    ("    project: fmops-foundation\n", "    project: fmops-foundation\n    aws:owner: me\n", None,
     ["organisation.tags.aws:owner", "reserved for AWS"]),
    ("    project: fmops-foundation\n", "    project: fmops-foundation\n    AWS:Owner: me\n", None,
     ["organisation.tags.AWS:Owner", "reserved for AWS"]),
    ("    project: fmops-foundation\n", "    project: fmops-foundation\n    fmops:team: me\n", None,
     ["organisation.tags.fmops:team", "the app sets the fmops: tags"]),
    ("    project: fmops-foundation\n", "    project: fmops-foundation\n    owner: \"a|b\"\n", None,
     ["organisation.tags.owner", "tag value 'a|b'"]),
    ("    project: fmops-foundation\n", "    project: fmops-foundation\n    " + "k" * 129 + ": v\n", None,
     ["tag key 'kkk", "1 to 128"]),
    ("    project: fmops-foundation\n", "    project: fmops-foundation\n    long: " + "v" * 257 + "\n", None,
     ["organisation.tags.long", "at most 256"]),
    ("  tags:\n    project: fmops-foundation\n", tags(MAX_CONFIG_TAGS + 1), None,
     ["organisation.tags", f"{MAX_CONFIG_TAGS + 1} tags", "at most 50", "fmops:organisation"]),
    # availability zones that do not exist in the region
    ("availability_zones: [eu-west-1a, eu-west-1b, eu-west-1c]", "availability_zones: [eu-west-1a, eu-west-1b, eu-west-1z]",
     None, ["organisation.availability_zones[2]", "'eu-west-1z' does not exist in eu-west-1", "eu-west-1a, eu-west-1b, eu-west-1c"]),
    # special ranges that are not RFC 1918
    ("cidr: 10.2.32.0/20", "cidr: 127.0.0.0/20", None, ["network.cidr", "not a private (RFC 1918)", "loopback"]),
    ("cidr: 10.2.32.0/20", "cidr: 169.254.0.0/20", None, ["network.cidr", "link-local"]),
    ("cidr: 10.2.32.0/20", "cidr: 100.64.0.0/20", None, ["network.cidr", "shared address space"]),
    ("cidr: 10.2.32.0/20", "cidr: 0.0.0.0/16", None, ["network.cidr", "'this network'"]),
    ("cidr: 10.2.32.0/20", "cidr: 198.18.0.0/16", None, ["network.cidr", "benchmarking"]),
    ("cidr: 10.2.32.0/20", "cidr: 192.0.2.0/24", None, ["network.cidr", "documentation"]),
    ("cidr: 10.2.32.0/20", "cidr: 240.0.0.0/16", None, ["network.cidr", "reserved"]),
    ("network: {cidr: 10.2.32.0/20, az_count: 3}", EXISTING.format(cidr="127.0.0.0/16"), None,
     ["network.existing.cidr", "loopback"]),
    ("network: {cidr: 10.2.32.0/20, az_count: 3}", EXISTING.format(cidr="10.0.0.0/8"), None,
     ["network.existing.cidr", "allowed is /16 to /28"]),
    # path segments
    (FALCON_WEIGHTS, "weights: falcon-7b-instruct/../base/", None, ["endpoints[0](name=falcon-7b).weights", "'..'"]),
    (FALCON_WEIGHTS, "weights: ./base/", None, ["endpoints[0](name=falcon-7b).weights", "'.'"]),
    (FALCON_WEIGHTS, "weights: falcon//base/", None, ["endpoints[0](name=falcon-7b).weights", "should match"]),
    (FALCON_WEIGHTS, "weights: /falcon/base/", None, ["endpoints[0](name=falcon-7b).weights", "should match"]),
    ("  tags:\n", "  delivery: {source: {object_key: ../repo.zip}}\n  tags:\n", None,
     ["organisation.delivery.source.object_key", "'..'"]),
    ("  tags:\n", "  delivery: {source: {object_key: /repo.zip}}\n  tags:\n", None,
     ["organisation.delivery.source.object_key", "should match"]),
    ("  tags:\n", "  delivery: {source: {object_key: a//repo.zip}}\n  tags:\n", None,
     ["organisation.delivery.source.object_key", "should match"]),
    ("  tags:\n", "  delivery: {source: {kind: codecommit, repository: fmops, branch: release/../main}}\n  tags:\n",
     None, ["organisation.delivery.source.branch", "not a git branch name"]),
    ("  tags:\n", "  delivery: {source: {kind: codecommit, repository: fmops, branch: release/}}\n  tags:\n",
     None, ["organisation.delivery.source.branch", "not a git branch name"]),
    ("  tags:\n", "  platform_assume_principal: arn:aws:iam::111111111111:role/a//b\n  tags:\n", None,
     ["organisation.platform_assume_principal", "should match"]),
    ("  tags:\n", "  platform_assume_principal: arn:aws:iam::111111111111:role/sso/\n  tags:\n", None,
     ["organisation.platform_assume_principal", "should match"]),
    # DNS firewall domains
    ("  tags:\n", "  dns_allowed_domains: ['corp.*.example.com']\n  tags:\n", None, ["dns_allowed_domains[0]"]),
    ("  tags:\n", "  dns_allowed_domains: ['*corp.example.com']\n  tags:\n", None, ["dns_allowed_domains[0]"]),
    ("  tags:\n", "  dns_allowed_domains: ['*.com']\n  tags:\n", None, ["dns_allowed_domains[0]"]),
    ("  tags:\n", "  dns_allowed_domains: ['-corp.example.com']\n  tags:\n", None, ["dns_allowed_domains[0]"]),
    ("  tags:\n", f"  dns_allowed_domains: ['{'a' * 64}.example.com']\n  tags:\n", None, ["dns_allowed_domains[0]"]),
    ("  tags:\n", f"  dns_allowed_domains: ['{'.'.join(['a' * 60] * 5)}']\n  tags:\n", None,
     ["dns_allowed_domains", "at most 253"]),
]


@pytest.mark.parametrize(("old", "new", "team", "expected"), CASES, ids=[c[1].strip()[:40] for c in CASES])
def test_refused_at_validate_time(tmp_path, old, new, team, expected):
    assert old in DEFAULT_TEXT, old
    text = DEFAULT_TEXT.replace(old, new, 1)
    if team:
        text = text.replace(team, "- name: genai-applications\n", 1).replace(  # and risk's data-lake grant to it
            "- consumer: genai\n", "- consumer: genai-applications\n")
    message = error_for(tmp_path, text)
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize("text", [
    "  dns_allowed_domains: ['*.corp.example.com', 'git.example.com.', 'a-b.example.org']\n",
    "  delivery: {source: {kind: codecommit, repository: fmops, branch: release/2024.1}}\n",
    "  platform_assume_principal: arn:aws:iam::111111111111:role/sso/AWSReservedSSO_Admin_abc\n",
    "  delivery: {source: {object_key: releases/fmops-1.2.zip}}\n",
])
def test_near_misses_stay_valid(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(DEFAULT_TEXT.replace("  tags:\n", text + "  tags:\n", 1))
    load_config(path)


def test_longest_names_that_fit_are_valid(tmp_path):
    # 10 + 1 + 14 + 6 + 12 + 1 + 9 = 53 for the data bucket; 55 for the models bucket: both fit 63.
    text = DEFAULT_TEXT.replace("  name: fmops\n", "  name: fmops-orga\n", 1).replace(
        "- name: genai\n", "- name: genai-applicat\n", 1).replace("- consumer: genai\n", "- consumer: genai-applicat\n")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    load_config(path)


def test_zones_come_from_bundled_data():
    assert region_zones("eu-west-1") == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert region_zones("mars-north-1") is None


def test_zone_table_is_what_the_pinned_cfn_lint_holds():
    """availability_zones.json (read by validation, so that it needs no cfn-lint import) is the
    table of the pinned cfn-lint."""
    assert json.loads(AVAILABILITY_ZONES_FILE.read_text())["zones"] == availability_zone_table(), (
        f"availability_zones.json is stale: run {REGENERATE_ZONES}")
