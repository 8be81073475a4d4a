"""VPC endpoint policies: who may use an account's endpoints, and which buckets its S3 endpoint reaches.

An endpoint policy is evaluated on every request through the endpoint, on top of the caller's
IAM policies and the resource's policy; it is the VPC's own say over which credentials and which
resources its traffic may use (AWS PrivateLink guide, "Control access to VPC endpoints using
endpoint policies"). The documents are plain dicts, built once per stack and set on the L1
``AWS::EC2::VPCEndpoint`` (``PolicyDocument``): each is a few hundred characters, far below the
20,480 characters an endpoint policy may have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

VERSION = "2012-10-17"


@dataclass(frozen=True)
class Perimeter:
    """The organisation the endpoints admit: its AWS Organizations ID, or its accounts one by one
    (no organisation ID, or a single account)."""

    account_ids: tuple[str, ...]
    organization_id: str | None = None

    @classmethod
    def of(cls, account_ids: Sequence[str], organization_id: str | None = None) -> Perimeter:
        return cls(tuple(sorted(set(account_ids))), organization_id)

    def principals(self) -> dict[str, Any]:
        """``StringEquals`` keys that hold only for callers of the organisation."""
        if self.organization_id:
            return {"aws:PrincipalOrgID": self.organization_id}
        return {"aws:PrincipalAccount": list(self.account_ids)}

    def resources(self) -> dict[str, Any]:
        """``StringEquals`` keys that hold only for resources of the organisation's accounts."""
        if self.organization_id:
            return {"aws:ResourceOrgID": self.organization_id}
        return {"aws:ResourceAccount": list(self.account_ids)}


def _allow(sid: str, actions: Sequence[str] | str, resources: Sequence[str] | str,
           condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": actions,
                                 "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def organisation_only(perimeter: Perimeter) -> dict[str, Any]:
    """The policy of an interface endpoint: any action of the service, for the organisation's
    principals only. Credentials of any other account (an attacker's own account, to copy data
    out through the VPC) and unsigned requests are refused at the endpoint."""
    return {"Version": VERSION, "Statement": [
        _allow("OrganisationPrincipalsOnly", "*", "*", {"StringEquals": perimeter.principals()})]}


def s3_gateway(perimeter: Perimeter, *, account: str, region: str, partition: str = "aws",
               aws_owned_reads: Sequence[tuple[str, str]] = (), drop_zone_prefix: str | None = None,
               cdk_asset_qualifier: str | None = None) -> dict[str, Any]:
    """The policy of the S3 gateway endpoint of the VPC of ``account``.

    - ``ThisAccountBuckets``: any S3 action on the buckets of this account
      (``aws:ResourceAccount``), by the organisation's principals. Nothing else of the
      organisation, and no bucket anywhere else, can be written (or read) through the VPC.
    - ``DropZonesOfTheOrganisation`` (``drop_zone_prefix``): this account's principals may put
      objects below ``<drop_zone_prefix>/<account>/`` of the organisation's buckets, the way one
      stage hands artifacts to the next; the receiving bucket's policy says whom it admits there.
    - ``CdkAssetsOfTheOrganisation`` (``cdk_asset_qualifier``): the CDK asset buckets
      (``cdk-<qualifier>-assets-<account>-<region>``) of the organisation's accounts, for the
      organisation's principals: a delivery pipeline's asset step runs in this VPC and publishes
      with each target account's own publishing role.
    - ``aws_owned_reads`` (sid, object ARN pattern): objects of AWS-owned buckets that AWS flows
      hand out through pre-signed URLs, readable by anyone in the VPC; plus
      ``CloudFormationCustomResourceResponses``: the pre-signed response URL of CloudFormation
      custom resources (``cloudformation-custom-resource-response-<region without dashes>``, AWS
      CloudFormation user guide, "Custom resources and VPC endpoints").
    """
    statements = [_allow("ThisAccountBuckets", "s3:*", "*",
                         {"StringEquals": {"aws:ResourceAccount": account, **perimeter.principals()}})]
    if drop_zone_prefix:
        statements.append(_allow(
            "DropZonesOfTheOrganisation", ["s3:PutObject", "s3:AbortMultipartUpload"],
            f"arn:{partition}:s3:::*/{drop_zone_prefix}/{account}/*",
            {"StringEquals": {"aws:PrincipalAccount": account, **perimeter.resources()}}))
    if cdk_asset_qualifier:
        bucket = f"arn:{partition}:s3:::cdk-{cdk_asset_qualifier}-assets-*-{region}"
        statements.append(_allow(
            "CdkAssetsOfTheOrganisation",
            ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket", "s3:GetBucketLocation",
             "s3:GetEncryptionConfiguration"],
            [bucket, f"{bucket}/*"], {"StringEquals": {**perimeter.principals(), **perimeter.resources()}}))
    statements += [_allow(sid, "s3:GetObject", objects) for sid, objects in aws_owned_reads]
    statements.append(_allow(
        "CloudFormationCustomResourceResponses", "s3:PutObject",
        f"arn:{partition}:s3:::cloudformation-custom-resource-response-{region.replace('-', '')}/*"))
    return {"Version": VERSION, "Statement": statements}
