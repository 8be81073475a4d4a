"""Set up and start a Ground Truth labeling job on the project's private work team.

    python labeling_job.py manifest --bucket B --project P          # input manifest from input/ objects
    python labeling_job.py start --bucket B --project P --workteam-arn ARN --role-arn ARN \\
        --ui-template-uri s3://... --pre-lambda ARN --consolidation-lambda ARN [--job-name NAME]

The layout under ``s3://<team bucket>/labeling/<project>/`` (the persona matrix's label-data
prefix): ``input/`` holds the items (one text file per item: a question and the answer to label),
``input.manifest`` the manifest this script writes, ``output/`` the labels. The pre-annotation
and consolidation Lambda functions of built-in task types are AWS-owned and per Region: take
their ARNs from the Ground Truth documentation for text classification in your Region.

``start`` passes the project's labeling role to SageMaker. No persona may pass a project role
(a launcher could otherwise run a job with the labeling role's rights, which the access matrix
refuses it), so ``start`` runs as a role your platform team grants that pass explicitly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LABELS = Path(__file__).with_name("labels.json")
TASK_SECONDS = 600


def prefix(project: str) -> str:
    return f"labeling/{project}/"


def manifest_lines(bucket: str, keys: Iterable[str]) -> list[str]:
    """One manifest line per text item, in key order: {"source-ref": "s3://..."}."""
    return [json.dumps({"source-ref": f"s3://{bucket}/{key}"}) for key in sorted(keys) if key.endswith(".txt")]


def default_job_name(workteam_arn: str) -> str:
    """``<work team name>-labels``: the work team is named <team>-<project>, so the job's name
    starts with the team's name, as the team's labeling jobs do."""
    return f"{workteam_arn.rsplit('/', 1)[-1]}-labels"


def labeling_job_request(*, name: str, bucket: str, project: str, workteam_arn: str, role_arn: str,
                         ui_template_uri: str, pre_lambda: str, consolidation_lambda: str,
                         kms_key: str | None = None) -> dict[str, Any]:
    """The CreateLabelingJob request: text classification by the private work team, one worker
    per item, labels under output/."""
    base = f"s3://{bucket}/{prefix(project)}"
    request: dict[str, Any] = {
        "LabelingJobName": name,
        "LabelAttributeName": "category",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": f"{base}input.manifest"}},
                        "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]}},
        "OutputConfig": {"S3OutputPath": f"{base}output/"},
        "RoleArn": role_arn,
        "LabelCategoryConfigS3Uri": f"{base}labels.json",
        "HumanTaskConfig": {
            "WorkteamArn": workteam_arn,
            "UiConfig": {"UiTemplateS3Uri": ui_template_uri},
            "PreHumanTaskLambdaArn": pre_lambda,
            "TaskTitle": "Label answers of the assistant",
            "TaskDescription": "Is the answer relevant, not relevant or unsafe?",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": TASK_SECONDS,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": consolidation_lambda},
        },
        "Tags": [{"Key": "sagemaker:project-name", "Value": project}],
    }
    if kms_key:
        request["OutputConfig"]["KmsKeyId"] = kms_key
    return request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    manifest = commands.add_parser("manifest")
    start = commands.add_parser("start")
    for command in (manifest, start):
        command.add_argument("--bucket", required=True)
        command.add_argument("--project", required=True)
    for flag in ("--workteam-arn", "--role-arn", "--ui-template-uri", "--pre-lambda", "--consolidation-lambda"):
        start.add_argument(flag, required=True)
    start.add_argument("--job-name")
    args = parser.parse_args(argv)
    import boto3

    s3 = boto3.client("s3")
    base = prefix(args.project)
    if args.command == "manifest":
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=f"{base}input/")
        lines = manifest_lines(args.bucket, (o["Key"] for page in pages for o in page.get("Contents", [])))
        s3.put_object(Bucket=args.bucket, Key=f"{base}input.manifest", Body="\n".join(lines).encode() + b"\n")
        s3.put_object(Bucket=args.bucket, Key=f"{base}labels.json", Body=LABELS.read_bytes())
        print(f"{len(lines)} items in s3://{args.bucket}/{base}input.manifest")
        return 0
    request = labeling_job_request(
        name=args.job_name or default_job_name(args.workteam_arn), bucket=args.bucket, project=args.project,
        workteam_arn=args.workteam_arn, role_arn=args.role_arn, ui_template_uri=args.ui_template_uri,
        pre_lambda=args.pre_lambda, consolidation_lambda=args.consolidation_lambda)
    arn = boto3.client("sagemaker").create_labeling_job(**request)["LabelingJobArn"]
    print(arn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
