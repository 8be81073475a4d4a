"""Model promotion between a team's stage accounts (dev -> preprod -> prod), run by Lambda in the VPC.

``promote`` (account with a next stage): EventBridge calls it when a model package of one of the
team's groups (``<team>-*``) is approved in this account, which is the manual gate. It copies the
package's model artifact(s) and evaluation report into the next stage account's promoted-models
bucket under ``incoming/<this account>/<group>/<version>/`` and writes ``manifest.json`` last.
Only objects cross: no API call reaches into the next account.

``register`` (account with a previous stage): EventBridge calls it when a manifest arrives in this
account's promoted-models bucket. It registers the model in this account's registry, in the group
of the same name, as ``PendingManualApproval``: the next stage's manual gate. The copied objects
stay where they are, encrypted with this account's key; the manifest's key, not its content, says
which account sent it (only that account's promotion role may write below its prefix), and the
model must lie below the manifest's own prefix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MANIFEST = "manifest.json"
INCOMING = "incoming"
REGISTERED = "registered"
PENDING = "PendingManualApproval"
# The tags of the packages the receiver registers: the team (what the roles that approve and
# deploy them check) and where the package came from.
TEAM_TAG = "fmops:team"
SOURCE_PACKAGE = "fmops:source-model-package"
SOURCE_ACCOUNT = "fmops:source-account"
MANIFEST_KEY = re.compile(rf"^{INCOMING}/(?P<account>\d{{12}})/(?P<group>[A-Za-z0-9](?:-*[A-Za-z0-9]){{0,62}})/"
                          rf"(?P<version>\d+)/{re.escape(MANIFEST)}$")
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
SINGLE_COPY_LIMIT = 5 * 1024**3  # CopyObject copies up to 5 GiB; larger objects are copied in parts
PART = 512 * 1024**2  # server-side copy in parts of 512 MiB, 8 at a time
CONTAINER_FIELDS = ("Image", "ModelDataUrl", "Environment", "Framework", "FrameworkVersion", "NearestModelName")
INFERENCE_FIELDS = ("SupportedContentTypes", "SupportedResponseMIMETypes", "SupportedRealtimeInferenceInstanceTypes",
                    "SupportedTransformInstanceTypes")


class PromotionError(Exception):
    """A package or manifest that must not be promoted or registered (the reason is the message)."""


def split_uri(uri: str) -> tuple[str, str]:
    match = S3_URI.match(uri or "")
    if not match:
        raise PromotionError(f"not an S3 object URI: {uri!r}")
    return match["bucket"], match["key"]


class Promoter:
    """Copies an approved model package of the team to the next stage (see the module docstring).

    settings: TEAM, ACCOUNT (this one), TARGET_ACCOUNT, TARGET_BUCKET, SOURCE_BUCKETS (comma-separated
    buckets the artifacts may come from: the team bucket, and the promoted-models bucket when this
    account has a previous stage).
    """

    def __init__(self, *, sagemaker: Any, s3: Any, settings: dict[str, str]) -> None:
        self.sagemaker, self.s3 = sagemaker, s3
        self.team = settings["TEAM"]
        self.account = settings["ACCOUNT"]
        self.target_account = settings["TARGET_ACCOUNT"]
        self.target_bucket = settings["TARGET_BUCKET"]
        self.sources = {b for b in settings["SOURCE_BUCKETS"].split(",") if b}
        self.copy_workers = 8  # parts copied at a time

    def promote(self, event: dict[str, Any]) -> dict[str, Any]:
        arn = event["detail"]["ModelPackageArn"]
        package = self.sagemaker.describe_model_package(ModelPackageName=arn)
        if package.get("ModelApprovalStatus") != "Approved":
            return {"skipped": f"{arn} is {package.get('ModelApprovalStatus')}, not Approved"}
        group = package["ModelPackageGroupName"]
        if not group.startswith(f"{self.team}-"):
            raise PromotionError(f"{arn}: group {group} is not one of team {self.team}'s")
        prefix = f"{INCOMING}/{self.account}/{group}/{package['ModelPackageVersion']}/"
        containers = package.get("InferenceSpecification", {}).get("Containers", [])
        if not containers:
            raise PromotionError(f"{arn} has no inference containers")
        promoted = []
        for index, container in enumerate(containers):
            if "ModelDataUrl" not in container:
                raise PromotionError(f"{arn}: container {index} has no ModelDataUrl (model.tar.gz); only packaged "
                                     "model artifacts are promoted")
            name = split_uri(container["ModelDataUrl"])[1].rsplit("/", 1)[-1]
            key = f"{prefix}{index}/{name}" if len(containers) > 1 else f"{prefix}{name}"
            promoted.append({**{k: container[k] for k in CONTAINER_FIELDS if k in container},
                             "ModelDataUrl": self._copy(container["ModelDataUrl"], key)})
        manifest: dict[str, Any] = {
            "format": 1,
            "source_account": self.account,
            "source_model_package_arn": arn,
            "group": group,
            "description": package.get("ModelPackageDescription", ""),
            # The package this one was itself promoted from, if any (dev's, seen from prod).
            "lineage": [*filter(None, [package.get("CustomerMetadataProperties", {}).get(SOURCE_PACKAGE)]), arn],
            "inference_specification": {
                "Containers": promoted,
                **{k: package["InferenceSpecification"][k] for k in INFERENCE_FIELDS
                   if k in package["InferenceSpecification"]}},
        }
        statistics = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics")
        if statistics and statistics.get("S3Uri"):
            manifest["model_quality"] = {"ContentType": statistics.get("ContentType", "application/json"),
                                         "S3Uri": self._copy(statistics["S3Uri"], f"{prefix}evaluation.json")}
        self.s3.put_object(Bucket=self.target_bucket, Key=prefix + MANIFEST, ContentType="application/json",
                           Body=json.dumps(manifest, indent=2).encode(), ExpectedBucketOwner=self.target_account)
        return {"promoted": arn, "to": f"s3://{self.target_bucket}/{prefix}{MANIFEST}"}

    def _copy(self, uri: str, key: str) -> str:
        """Server-side copy into the target bucket, both owners checked (the source in this account,
        the target in the next: a bucket of the same name elsewhere is refused)."""
        bucket, source_key = split_uri(uri)
        if bucket not in self.sources:
            raise PromotionError(f"{uri} is outside the buckets models are promoted from ({sorted(self.sources)})")
        source = {"Bucket": bucket, "Key": source_key}
        owners = {"ExpectedBucketOwner": self.target_account, "ExpectedSourceBucketOwner": self.account}
        size = self.s3.head_object(**source, ExpectedBucketOwner=self.account)["ContentLength"]
        if size <= SINGLE_COPY_LIMIT:
            self.s3.copy_object(CopySource=source, Bucket=self.target_bucket, Key=key, TaggingDirective="REPLACE",
                                **owners)
        else:
            self._copy_in_parts(source, key, size, owners)
        return f"s3://{self.target_bucket}/{key}"

    def _copy_in_parts(self, source: dict[str, str], key: str, size: int, owners: dict[str, str]) -> None:
        target = {"Bucket": self.target_bucket, "Key": key}
        upload = self.s3.create_multipart_upload(**target, ExpectedBucketOwner=self.target_account)["UploadId"]

        def part(number: int) -> dict[str, Any]:
            first = (number - 1) * PART
            copied = self.s3.upload_part_copy(**target, UploadId=upload, PartNumber=number, CopySource=source,
                                              CopySourceRange=f"bytes={first}-{min(first + PART, size) - 1}", **owners)
            return {"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]}

        try:
            with ThreadPoolExecutor(max_workers=self.copy_workers) as pool:
                parts = list(pool.map(part, range(1, -(-size // PART) + 1)))
            self.s3.complete_multipart_upload(**target, UploadId=upload, MultipartUpload={"Parts": parts},
                                              ExpectedBucketOwner=self.target_account)
        except Exception:
            self.s3.abort_multipart_upload(**target, UploadId=upload, ExpectedBucketOwner=self.target_account)
            raise


class Registrar:
    """Registers a promoted model in this account's registry, pending manual approval.

    settings: TEAM, BUCKET (this account's promoted-models bucket), SOURCE_ACCOUNT (the previous stage),
    IMAGE_REPOSITORIES (comma-separated image URI prefixes, the only images a promoted package may name: the
    organisation's ECR mirror, ``<registry host>/<namespace>/``, and the AWS-provided images the team's
    templates register, ``<registry host>/<repository>:``).
    """

    def __init__(self, *, sagemaker: Any, s3: Any, settings: dict[str, str]) -> None:
        self.sagemaker, self.s3 = sagemaker, s3
        self.team = settings["TEAM"]
        self.bucket = settings["BUCKET"]
        self.source_account = settings["SOURCE_ACCOUNT"]
        self.images = tuple(prefix for prefix in settings["IMAGE_REPOSITORIES"].split(",") if prefix)

    def register(self, event: dict[str, Any]) -> dict[str, Any]:
        bucket, key = event["detail"]["bucket"]["name"], event["detail"]["object"]["key"]
        match = MANIFEST_KEY.match(key)
        if bucket != self.bucket or not match:
            raise PromotionError(f"s3://{bucket}/{key} is not a manifest of this account's promoted models")
        if match["account"] != self.source_account or not match["group"].startswith(f"{self.team}-"):
            raise PromotionError(f"{key}: only team {self.team}'s models from account {self.source_account} are "
                                 "registered here")
        marker = f"{REGISTERED}/{key.removeprefix(INCOMING + '/').removesuffix('/' + MANIFEST)}.json"
        if self._exists(marker):
            return {"skipped": f"{key} is already registered"}
        manifest = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        prefix = f"s3://{bucket}/{key.removesuffix(MANIFEST)}"
        group = match["group"]
        source_package = str(manifest.get("source_model_package_arn", ""))
        if (manifest.get("group") != group or manifest.get("source_account") != self.source_account
                or f":{self.source_account}:model-package/{group}/" not in source_package):
            raise PromotionError(f"{key}: the manifest names another group or account than its location")
        specification = manifest["inference_specification"]
        uris = [c.get("ModelDataUrl", "") for c in specification["Containers"]]
        quality = manifest.get("model_quality")
        if quality:
            uris.append(quality["S3Uri"])
        if not uris or any(not u.startswith(prefix) for u in uris):
            raise PromotionError(f"{key}: every model artifact must lie below {prefix}")
        if any(not c.get("Image", "").startswith(self.images) for c in specification["Containers"]):
            raise PromotionError(f"{key}: every image must come from the organisation's mirror or be an AWS-provided "
                                 f"image of the team's templates ({', '.join(self.images)})")
        self._ensure_group(group)
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": (manifest.get("description") or f"Promoted from {self.source_account}")[:1024],
            "InferenceSpecification": specification,
            "ModelApprovalStatus": PENDING,
            "CustomerMetadataProperties": {SOURCE_PACKAGE: source_package,
                                           SOURCE_ACCOUNT: self.source_account},
            "ClientToken": hashlib.sha256(key.encode()).hexdigest()[:36],
            "Tags": [{"Key": TEAM_TAG, "Value": self.team}],
        }
        if quality:
            request["ModelMetrics"] = {"ModelQuality": {"Statistics": quality}}
        created = self.sagemaker.create_model_package(**request)["ModelPackageArn"]
        self.s3.put_object(Bucket=bucket, Key=marker, ContentType="application/json",
                           Body=json.dumps({"model_package_arn": created, "manifest": key}).encode())
        return {"registered": created, "status": PENDING}

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _ensure_group(self, group: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("ValidationException", "ResourceNotFound"):
                raise
            self.sagemaker.create_model_package_group(
                ModelPackageGroupName=group, Tags=[{"Key": TEAM_TAG, "Value": self.team}],
                ModelPackageGroupDescription=f"Models of team {self.team} promoted from account {self.source_account}")


def _clients() -> tuple[Any, Any]:
    import boto3

    return boto3.client("sagemaker"), boto3.client("s3")


def promote(event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
    sagemaker, s3 = _clients()
    return Promoter(sagemaker=sagemaker, s3=s3, settings=dict(os.environ)).promote(event)


def register(event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
    sagemaker, s3 = _clients()
    return Registrar(sagemaker=sagemaker, s3=s3, settings=dict(os.environ)).register(event)
