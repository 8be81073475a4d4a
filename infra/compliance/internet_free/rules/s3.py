"""S3 buckets and access points: no public access, and only through the VPC endpoint and TLS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.compliance.internet_free.intrinsics import MISSING, is_intrinsic, show, values
from infra.compliance.internet_free.policies import (
    TLS_GUARD,
    VPC_GUARD,
    covers,
    denied_actions,
    only_conditions,
    public_statements,
    specific,
    statements_of,
)
from infra.compliance.internet_free.predicates import is_false, is_true, may_be_absent, present, when
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "resource"


@rule("IF-S3-WEBSITE", "No S3 website hosting", "AWS::S3::Bucket")
def s3_website(s: Subject) -> list[str]:
    """Website hosting serves the bucket over a public HTTP endpoint.

    Fix: remove WebsiteConfiguration.
    """
    return when(present(s.at("WebsiteConfiguration")), "WebsiteConfiguration: public website endpoint")


_BLOCK_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


@rule("IF-S3-PUBLIC-ACCESS-BLOCK", "All four S3 public access blocks on", "AWS::S3::Bucket")
def s3_public_access_block(s: Subject) -> list[str]:
    """Without all four public access blocks a bucket policy or ACL can make objects public.

    Fix: PublicAccessBlockConfiguration with all four flags true (CDK: BlockPublicAccess.BLOCK_ALL).
    """
    if may_be_absent(s.at("PublicAccessBlockConfiguration")):
        return ["no PublicAccessBlockConfiguration"]
    return [
        f"PublicAccessBlockConfiguration.{flag} is not true"
        for flag in _BLOCK_FLAGS
        if not all(is_true(value) for value in s.at("PublicAccessBlockConfiguration", flag))
    ]


_PUBLIC_ACLS = ("PublicRead", "PublicReadWrite", "AuthenticatedRead")


@rule("IF-S3-ACL", "No public canned ACL", "AWS::S3::Bucket")
def s3_acl(s: Subject) -> list[str]:
    """PublicRead, PublicReadWrite and AuthenticatedRead (any AWS account) open the bucket.
    Unknown values are findings.

    Fix: remove AccessControl (or Private) and enforce bucket-owner object ownership.
    """
    acl = s.at("AccessControl")
    public = [value for value in acl if is_intrinsic(value) or value in _PUBLIC_ACLS]
    return [f"AccessControl {show(value, s.template)} is public" for value in public]


@rule("IF-S3-POLICY-PUBLIC", "No public bucket policy", "AWS::S3::BucketPolicy")
def s3_policy_public(s: Subject) -> list[str]:
    """An Allow to Principal '*' without a condition on aws:SourceVpce, aws:SourceVpc,
    organisation, account or source ARN makes the bucket public.

    Fix: name principals, or add a StringEquals condition on aws:SourceVpce or aws:PrincipalOrgID.
    """
    return public_statements(s.props.get("PolicyDocument", MISSING), s.template)


def _bucket_policy_statements(s: Subject) -> list[dict]:
    own = {"Ref": s.logical_id}
    return [
        statement
        for _, policy in s.resources("AWS::S3::BucketPolicy")
        if own in values(policy.get("Properties", {}).get("Bucket"), s.template)
        for statement in statements_of(policy.get("Properties", {}).get("PolicyDocument"), s.template)
    ]


def _is_guard(
    statement: dict, template: dict, guard: set[tuple[str, str]], guard_value: Callable[[Any], bool]
) -> bool:
    """A Deny of s3:* to everyone, conditioned only on ``guard`` (and AWS-service carve-outs)."""
    actions = denied_actions(statement, template)
    if actions is None or not covers(actions, "s3:*"):
        return False
    return only_conditions(statement, template, guard, guard_value)


@rule("IF-S3-VPCE-ONLY", "Buckets deny access from outside the VPC endpoint", "AWS::S3::Bucket", perimeter="network")
def s3_vpce_only(s: Subject) -> list[str]:
    """Without a bucket policy (in the same template) that denies s3:* to everyone when
    aws:SourceVpce or aws:SourceVpc does not match, stolen credentials read the bucket from the
    internet. Only StringNotEquals(IfExists) on those keys counts, and the only other
    conditions allowed are AWS-service carve-outs (aws:PrincipalIsAWSService or
    aws:ViaAWSService false, aws:CalledVia not a named *.amazonaws.com service); anything else,
    such as an admin-role escape hatch, lets that caller in from the internet.

    Fix: add that Deny statement to the bucket policy.
    """
    if any(_is_guard(statement, s.template, VPC_GUARD, specific) for statement in _bucket_policy_statements(s)):
        return []
    return ["no bucket policy denies requests from outside the VPC endpoint (aws:SourceVpce)"]


@rule("IF-S3-TLS-ONLY", "Buckets deny requests without TLS", "AWS::S3::Bucket")
def s3_tls_only(s: Subject) -> list[str]:
    """Without a Deny on aws:SecureTransport false, requests can travel in clear text.

    Fix: CDK enforce_ssl=True (a Deny of s3:* when aws:SecureTransport is false).
    """
    if any(_is_guard(statement, s.template, TLS_GUARD, is_false) for statement in _bucket_policy_statements(s)):
        return []
    return ["no bucket policy denies requests without TLS (aws:SecureTransport false)"]


@rule("IF-S3-ACCESS-POINT", "S3 access points bound to a VPC", "AWS::S3::AccessPoint")
def s3_access_point(s: Subject) -> list[str]:
    """An access point without VpcConfiguration has network origin Internet.

    Fix: VpcConfiguration.VpcId of the internet-free VPC.
    """
    vpc = s.at("VpcConfiguration", "VpcId")
    return when(may_be_absent(vpc), "no VpcConfiguration: network origin is Internet")
