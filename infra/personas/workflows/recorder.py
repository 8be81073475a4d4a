"""Record the AWS calls a real client makes: boto3 and the SageMaker Python SDK, run offline.

The clients run against moto (in process, ``mock_aws``); operations moto does not implement get
a minimal canned response (:data:`CANNED`), enough for the client to go on. Every operation the
client sends is captured from botocore's ``before-parameter-build`` event with the parameters
the client built, and the actor that made it (the person's role, or the Studio execution role
for calls made from inside Studio).

The recording uses sentinel values (:class:`Sentinels`): a team ``teamx`` and persona
``personax`` in account ``123456789012``; :mod:`infra.personas.workflows.iam` maps a recorded
trace onto any team and persona.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from infra import naming

ORG, TEAM, PERSONA, ACCOUNT, REGION = "fmops", "teamx", "personax", "123456789012", "eu-west-1"


@dataclass(frozen=True)
class Sentinels:
    """The values every recorded workflow uses; replaced per team and persona when evaluated."""

    org: str = ORG
    team: str = TEAM
    persona: str = PERSONA
    account: str = ACCOUNT
    region: str = REGION
    subnet: str = "subnet-0123456789abcdef0"
    security_group: str = "sg-0123456789abcdef0"
    domain_id: str = "d-example"
    key_arn: str = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/TEAMKEY"
    guardrail_arn: str = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/gr0team1"
    model_id: str = "MODELID"
    model_slug: str = "MODELSLUG"  # the model part of the team's inference profile parameter
    profile_arn: str = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/TEAMPROFILE"

    @property
    def bucket(self) -> str:
        return naming.team_bucket_name(self.org, self.team, self.account, self.region)

    @property
    def mlflow_server_arn(self) -> str:
        return (f"arn:aws:sagemaker:{self.region}:{self.account}:mlflow-tracking-server/"
                f"{naming.mlflow_tracking_server_name(self.org, self.team)}")

    @property
    def job_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{naming.studio_role_name(self.org, self.team, self.persona)}"

    @property
    def profile(self) -> str:
        return naming.studio_user_profile_name(self.team, self.persona)

    @property
    def tags(self) -> list[dict[str, str]]:
        return [{"Key": naming.TAG_TEAM, "Value": self.team}]


# Responses for operations moto 5.2.5 does not implement: only what the clients read.
CANNED: dict[tuple[str, str], dict[str, Any]] = {
    ("bedrock-runtime", "Converse"): {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                                       "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1,
                                                                           "totalTokens": 2}, "metrics": {"latencyMs": 1}},
    ("bedrock-agent", "CreatePrompt"): {"id": "PROMPT12345", "arn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:prompt/PROMPT12345",
                                        "name": "summarise", "version": "DRAFT"},
    ("bedrock-agent", "UpdatePrompt"): {"id": "PROMPT12345", "arn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:prompt/PROMPT12345",
                                        "name": "summarise", "version": "DRAFT"},
    ("bedrock-agent", "CreatePromptVersion"): {"id": "PROMPT12345", "version": "1",
                                               "arn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:prompt/PROMPT12345:1"},
    ("bedrock-agent", "GetPrompt"): {"id": "PROMPT12345", "arn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:prompt/PROMPT12345",
                                     "name": "summarise", "version": "DRAFT", "variants": []},
    ("bedrock", "UpdateGuardrail"): {"guardrailId": "gr0team1", "version": "DRAFT",
                                     "guardrailArn": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/gr0team1"},
    ("bedrock", "CreateGuardrailVersion"): {"guardrailId": "gr0team1", "version": "2"},
    ("sagemaker", "CreatePresignedDomainUrl"): {"AuthorizedUrl": "https://d-example.studio.eu-west-1.sagemaker.aws/auth?token=x"},
    ("sagemaker", "CreateSpace"): {"SpaceArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:space/d-example/space"},
    ("sagemaker", "CreateApp"): {"AppArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/d-example/space/jupyterlab/default"},
    ("sagemaker", "ListDomains"): {"Domains": [{"DomainId": "d-example", "DomainName": f"{ORG}-dev"}]},
    ("sagemaker", "ListUserProfiles"): {"UserProfiles": []},
    ("sagemaker", "CreateLabelingJob"): {"LabelingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:labeling-job/x"},
    ("servicecatalog", "SearchProducts"): {"ProductViewSummaries": [{"ProductId": "prod-abcdefghijklm", "Name": "classical-ml"}]},
    ("servicecatalog", "DescribeProduct"): {"ProductViewSummary": {"ProductId": "prod-abcdefghijklm"},
                                            "ProvisioningArtifacts": [{"Id": "pa-abcdefghijklm"}]},
    ("servicecatalog", "ListLaunchPaths"): {"LaunchPathSummaries": [{"Id": "lp-abcdefghijklm"}]},
    ("servicecatalog", "DescribeProvisioningParameters"): {"ProvisioningArtifactParameters": []},
    ("servicecatalog", "ProvisionProduct"): {"RecordDetail": {"RecordId": "rec-abcdefghijklm", "Status": "CREATED"}},
    ("sagemaker", "CreateProject"): {"ProjectArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:project/x",
                                     "ProjectId": "p-abcdefghijkl"},
    ("sagemaker", "DescribeProject"): {"ProjectArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:project/x",
                                       "ProjectName": "x", "ProjectId": "p-abcdefghijkl",
                                       "ProjectStatus": "CreateCompleted", "CreationTime": "2026-06-01T00:00:00Z"},
    ("servicecatalog", "DescribeRecord"): {"RecordDetail": {"RecordId": "rec-abcdefghijklm", "Status": "SUCCEEDED"}},
    ("cloudtrail", "LookupEvents"): {"Events": []},
    ("config", "GetComplianceDetailsByConfigRule"): {"EvaluationResults": []},
    ("logs", "FilterLogEvents"): {"events": []},
    ("ec2", "CreateVpcEndpoint"): {"VpcEndpoint": {"VpcEndpointId": "vpce-0123456789abcdef0"}},
    ("ec2", "ModifyVpcEndpoint"): {"Return": True},
    ("sagemaker", "ListPipelineExecutionSteps"): {"PipelineExecutionSteps": []},
    ("sagemaker", "CreatePresignedMlflowTrackingServerUrl"): {
        "AuthorizedUrl": "https://t-example.eu-west-1.experiments.sagemaker.aws/auth?authToken=x"},
    ("sagemaker", "UpdateSpace"): {"SpaceArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:space/d-example/space"},
}


class _Ok:
    status_code = 200
    headers: dict = {}


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}")


# Values a client or the emulator makes up on each run (multipart upload ids, part checksums).
_VOLATILE = {"UploadId", "ETag", "ChecksumCRC32"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<volatile>" if k in _VOLATILE else _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if hasattr(value, "read"):
        return "<stream>"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return _TIMESTAMP.sub("TIMESTAMP", value)
    return value


@dataclass
class Recorder:
    """Captures operations of boto3 sessions; ``acting_as`` names who makes the next calls."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    actor: str = "persona"

    @contextlib.contextmanager
    def acting_as(self, actor: str) -> Iterator[None]:
        previous, self.actor = self.actor, actor
        try:
            yield
        finally:
            self.actor = previous

    def attach(self, session) -> None:
        session.events.register("before-parameter-build.*.*", self._capture)
        session.events.register("before-call.*.*", self._canned)

    def _capture(self, params: dict, model, **_: Any) -> None:
        service = model.service_model.service_name
        self.calls.append({"actor": self.actor, "service": service, "operation": model.name,
                           "params": _jsonable(params)})

    @staticmethod
    def _canned(model, **_: Any):
        response = CANNED.get((model.service_model.service_name, model.name))
        return (_Ok(), copy.deepcopy(response)) if response is not None else None


def record(client: Callable[..., None], sentinels: Sentinels = Sentinels()) -> list[dict[str, Any]]:
    """Run ``client(session, sentinels, recorder)`` offline and return the operations it sent."""
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
                      AWS_DEFAULT_REGION=sentinels.region, SAGEMAKER_SUPPRESS_V2_WARNING="1")
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    recorder = Recorder()
    with mock_aws():
        setup = boto3.Session(region_name=sentinels.region)
        s3 = setup.client("s3")
        s3.create_bucket(Bucket=sentinels.bucket, CreateBucketConfiguration={"LocationConstraint": sentinels.region})
        session = boto3.Session(region_name=sentinels.region)
        recorder.attach(session)
        try:
            client(session, sentinels, recorder)
        except ClientError as error:
            # The emulator refused the last call (moto checks, say, that Lambda can assume a
            # role it does not know); the call was sent, and that is what the trace records.
            recorder.calls[-1]["emulator_error"] = error.response["Error"]["Code"]
    return recorder.calls


def dumps(trace: list[dict[str, Any]]) -> str:
    return json.dumps(trace, indent=1, sort_keys=True) + "\n"
