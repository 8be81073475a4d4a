"""Every accepted cdk-nag and checkov finding of the project, with its reason, in one place.

Constructs call ``acknowledge(scope, "key", ...)`` with keys from ``ACKNOWLEDGMENTS``; nothing
else in the code base calls ``Validations.of(...).acknowledge`` or writes checkov skips. A
reviewer reads this file to see every accepted finding and why. cdk-nag rules are acknowledged
on the scope (CDK's Validations API); checkov checks are skipped on each CloudFormation
resource below the scope through its ``Metadata.checkov.skip`` entry, with the same reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct


@dataclass(frozen=True)
class Accepted:
    rules: tuple[str, ...]
    reason: str
    checkov: tuple[str, ...] = ()


ACKNOWLEDGMENTS: dict[str, Accepted] = {
    "access-log-bucket-sse-s3": Accepted(
        ("AwsSolutions-S3", "HIPAA.Security-S3DefaultEncryptionKMS", "NIST.800.53.R5-S3DefaultEncryptionKMS",
         "fmops-control-tower::CT.S3.PR.10"),
        "S3 server access logging can only deliver to buckets encrypted with SSE-S3 (AES256), not "
        "SSE-KMS; the bucket holds request logs, no business data, and is still TLS-only, "
        "VPC-endpoint-only and private.",
    ),
    "access-log-bucket-no-own-logs": Accepted(
        ("AwsSolutions-S1", "HIPAA.Security-S3BucketLoggingEnabled", "NIST.800.53.R5-S3BucketLoggingEnabled",
         "fmops-control-tower::CT.S3.PR.2"),
        "This is the access-log bucket itself; logging it into itself would loop. Changes to it (its "
        "policy, settings, deletion) are management events, which the audit trail records "
        "(organisation.audit.trail, AuditTrail); reads of the log objects are not recorded.",
        checkov=("CKV_AWS_18",),
    ),
    "access-log-bucket-no-object-lock": Accepted(
        ("fmops-control-tower::CT.S3.PR.9",),
        "S3 server access logging cannot deliver to a bucket that has an Object Lock default retention "
        "(Amazon S3 user guide, 'Enabling Amazon S3 server access logging': the destination bucket must not "
        "have one). The access logs expire by the bucket's lifecycle rule; the record that must not be "
        "altered, API activity, goes to the log archive, which has Object Lock.",
    ),
    "erasable-data-no-object-lock": Accepted(
        ("fmops-control-tower::CT.S3.PR.9",),
        "Team data, model artifacts, captured inference data and Bedrock invocation logs hold personal "
        "and business data that must be erasable (corrections, a data subject's erasure request, the "
        "end of a project); Object Lock would keep every version undeletable for its retention period. "
        "The bucket is versioned with noncurrent versions kept for 90 days, admits requests only through "
        "the VPC endpoint and TLS, and is retained when its stack or team is removed.",
    ),
    "no-object-event-consumer": Accepted(
        ("fmops-control-tower::CT.S3.PR.4",),
        "Nothing in the platform reacts to object events of this bucket, so an event notification would "
        "need a destination that nobody reads; CDK writes a bucket's notification configuration through "
        "a custom-resource Lambda per stack, one more function in every account. Buckets whose objects "
        "start a workflow (the model promotion bucket) have EventBridge notifications on; changes to this "
        "bucket's configuration and policy are management events in the audit trail.",
    ),
    "log-retention-from-config": Accepted(
        ("fmops-control-tower::CT.CLOUDWATCH.PR.2",),
        "The log group keeps its events for organisation.log_retention_days, the retention the platform "
        "team sets in the config (fmops validate accepts only CloudWatch's values); a shorter one than a "
        "year is their decision for operational and invocation logs, which can hold personal data. The "
        "record that must last, API activity, is the CloudTrail trail in the log archive "
        "(audit.retention_days, Object Lock).",
    ),
    "mirror-images-kept": Accepted(
        ("fmops-control-tower::CT.ECR.PR.1",),
        "The package mirror's repositories hold the organisation's pinned, tag-immutable images that "
        "project templates and FM endpoints reference by tag; a lifecycle rule that expires images would "
        "break models and projects already deployed. Tags are immutable and every image is scanned on "
        "push; repositories (retained) and their images stay until the platform team deletes them.",
    ),
    "control-tower-computed-value": Accepted(
        ("fmops-control-tower::CT.LAMBDA.PR.2", "fmops-control-tower::CT.LAMBDA.PR.3",
         "fmops-control-tower::CT.CLOUDWATCH.PR.3"),
        "The setting is there, with a value CloudFormation computes: these Control Tower rules accept only "
        "a literal string or a Ref/GetAtt of a resource of the same template, and here the subnet IDs are "
        "imported from the account's platform stack (Fn::ImportValue) or are the catalog's SSM parameter "
        "(a product template parameter), the KMS key ARN is another stack's key or that parameter, and a "
        "Lambda permission's SourceArn is the API's execute-api ARN built with Fn::Join. The internet-free "
        "pack checks every Lambda function's VpcConfig (IF-LAMBDA-VPC).",
    ),
    "bucket-replication": Accepted(
        ("HIPAA.Security-S3BucketReplicationEnabled", "NIST.800.53.R5-S3BucketReplicationEnabled"),
        "Cross-region replication would copy regulated data out of the region chosen for data "
        "residency; recovery relies on versioning (noncurrent versions are kept), on retention "
        "when a stack or team is removed, and, for the log archive, on Object Lock.",
    ),
    "scoped-inline-policy": Accepted(
        ("HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy"),
        "The policy is written for exactly one role (by CDK, or by the construct that creates the "
        "role) and scoped to the resources that role serves: for flow logs one log group, for an "
        "MLflow tracking server its artifact prefix, for the data lake's registration and ETL roles "
        "the team's lake and etl prefixes, its databases and its keys. An inline policy lives and "
        "dies with its role and cannot be attached to any other principal, which is stricter than a "
        "managed policy.",
    ),
    "access-logs-granted-by-log-bucket": Accepted(
        ("@aws-cdk/aws-s3:accessLogsPolicyNotAdded",),
        "CDK cannot edit the policy of a log bucket imported from another stack; the account's "
        "access-log bucket (AccessLogBucket) already admits logging.s3.amazonaws.com for every "
        "bucket of its own account (aws:SourceAccount), so the delivery permission exists.",
    ),
    "explicit-availability-zones": Accepted(
        ("CloudFormation-Validate::W3010",),
        "The AZs come from the organisation config on purpose: synth needs no credentials or "
        "context lookups, and the VPC spans exactly the zones the platform team chose (the "
        "AZ names map to the same zone IDs only within one account, which is the VPC's own).",
    ),
    "boundary-service-ceiling": Accepted(
        ("HIPAA.Security-IAMPolicyNoStatementsWithFullAccess", "NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess",
         "fmops-control-tower::CT.IAM.PR.3"),
        "This is a permissions boundary, not a grant: it only caps what identity policies may grant, "
        "and identity policies are generated from the persona matrix with named actions. Its Allow "
        "is generated from the classification of every action of the services it covers "
        "(infra/personas/actions); a service-level pattern (sagemaker:* in the team and platform "
        "boundaries, apigateway:* and lambda:* in the launch boundary) comes with a Deny of every "
        "action the classification refuses (OutsideTheClassification), and application-autoscaling:* "
        "in the launch boundary covers only actions the launch role's products need; the other Deny "
        "statements are the guards and preventive controls.",
        checkov=("CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111"),
    ),
    "cloudformation-provider-lambda": Accepted(
        ("HIPAA.Security-LambdaConcurrency", "HIPAA.Security-LambdaDLQ",
         "NIST.800.53.R5-LambdaConcurrency", "NIST.800.53.R5-LambdaDLQ"),
        "CDK's custom-resource provider handler runs only when CloudFormation creates, updates or "
        "deletes its resource: CloudFormation is the caller and retries, and a failure fails the "
        "stack operation visibly, so a dead-letter queue would hold nothing and a reserved "
        "concurrency would only take capacity from the account's workloads.",
        checkov=("CKV_AWS_115", "CKV_AWS_116"),
    ),
    "custom-resource-lambda-managed-policies": Accepted(
        ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
         "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]"),
        "CDK's AwsCustomResource handler role carries the two AWS-managed Lambda execution policies: "
        "writing its own logs, and creating and deleting the network interfaces that put the handler "
        "in the VPC. They grant no data access and AWS keeps them in step with Lambda; the API calls "
        "the handler makes are a separate inline policy scoped by this project.",
    ),
    "actions-without-resource-scope": Accepted(
        ("AwsSolutions-IAM5[Resource::*]",),
        "Only actions that cannot be narrowed to a resource ARN sit in this Resource '*' statement: "
        "Bedrock's Put/DeleteModelInvocationLoggingConfiguration (an account and Region setting with "
        "no resource type), ecr:GetAuthorizationToken, cloudwatch:PutMetricData and EC2 Describe "
        "calls (no resource types), and the network-interface calls SageMaker makes with an "
        "endpoint's execution role to attach the model to the VPC, which AWS documents with "
        "Resource '*'; the SageMaker List calls the Studio UI makes (ListApps, ListSpaces, "
        "ListUserProfiles, ListDomains) and sts:GetServiceBearerToken, which a condition limits to "
        "CodeArtifact tokens. Every action on data (S3, KMS, ECR pulls, logs) is in separate "
        "statements scoped to named resources.",
    ),
    "studio-own-spaces-and-apps": Accepted(
        ("AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:space/*]",
         "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:app/*]",
         "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:app/*/*/JupyterLab/*]",
         "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:user-profile/*]"),
        "Studio users name their spaces and apps at run time, so a Studio execution role cannot list "
        "their ARNs in advance. Every write is pinned by condition instead: spaces and apps only when "
        "sagemaker:OwnerUserProfileArn is the role's own user profile and sharing is Private, apps "
        "only of type JupyterLab and on the allowed image ARNs (anything else explicitly denied), "
        "tags only as part of a create call. The remaining wildcard grants Describe calls on the "
        "account's Studio resources, which hold settings, not data.",
    ),
    "team-keys-by-tag": Accepted(
        ("AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]",),
        "Attribute-based access: a Studio execution role may use (Decrypt, GenerateDataKey, "
        "DescribeKey; never administer) only the KMS keys whose fmops:team tag equals its own "
        "fmops:team principal tag, that is its team's data key. Key IDs are random and live in the "
        "team stack, so the tag, not the ARN, names the key; other teams' keys and untagged keys "
        "stay out of reach.",
    ),
    "ecr-organisation-principal": Accepted(
        ("AwsSolutions-ECR1",),
        "The policy names Principal '*' only together with a StringEquals condition on "
        "aws:PrincipalOrgID: it admits the principals of the organisation's own accounts, and only "
        "to pull images (or, in the registry policy, to fill the ECR Public cache). cdk-nag's "
        "ECR1 looks at the principal alone; the organisation condition is AWS's documented pattern "
        "for sharing a repository with every account of an organisation.",
    ),
    "ecr-cache-repository-creator": Accepted(
        ("AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/ecr-public/*]",),
        "ECR assumes this role to create the repository of an ECR Public image on its first pull "
        "through the cache; the repository name is the upstream image's, unknown in advance. The "
        "role can only create and tag repositories under the ecr-public/ cache prefix and use the "
        "mirror's key for them: it cannot push, pull, delete or touch any other repository.",
    ),
    "private-api-stage": Accepted(
        ("AwsSolutions-APIG3", "AwsSolutions-APIG6", "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
         "HIPAA.Security-APIGWExecutionLoggingEnabled", "HIPAA.Security-APIGWSSLEnabled",
         "NIST.800.53.R5-APIGWAssociatedWithWAF", "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
         "NIST.800.53.R5-APIGWExecutionLoggingEnabled", "NIST.800.53.R5-APIGWSSLEnabled",
         "fmops-control-tower::CT.APIGATEWAY.PR.1"),
        "A project's PRIVATE REST API (genai-app template): its resource policy denies every request "
        "that does not come through the VPC's execute-api endpoint, so there is no internet traffic "
        "for a WAF to inspect; every method is IAM-authorized and validated against a JSON schema. "
        "Access logs (JSON, the caller's IAM identity, KMS-encrypted, retained) record each request; "
        "execution logging needs the account-wide API Gateway CloudWatch role, which the platform "
        "does not create. Caching would replay generated answers and POSTs are never cached; client "
        "certificates authenticate API Gateway to HTTP back-ends, and the only back-end is a Lambda "
        "proxy integration in the VPC.",
        checkov=("CKV_AWS_120",),
    ),
    "project-vpc-from-parameters": Accepted(
        ("@aws-cdk/aws-ec2:noSubnetRouteTableId",),
        "A project template (fm-hosting) knows the account's VPC only from the SSM parameters its "
        "catalog stack writes, so it imports the VPC without route tables: the FM endpoint construct "
        "reads the VPC id for its security group and the subnet list is the parameter itself; nothing "
        "in the template reads or changes a route table.",
    ),
    "api-iam-authorization": Accepted(
        ("AwsSolutions-COG4",),
        "The project API's methods use AWS_IAM authorization (SigV4): callers are the team's persona "
        "roles, which the persona matrix already separates (end users may only POST /feedback), and "
        "the application's own roles. A Cognito authorizer would add a second identity store beside "
        "the organisation's SSO for the same people.",
    ),
    "delivery-pipeline-codebuild-source": Accepted(
        ("HIPAA.Security-CodeBuildProjectSourceRepoUrl",),
        "The delivery pipelines' CodeBuild projects get their source from CodePipeline (source type "
        "CODEPIPELINE): the pipeline hands each build an artifact from its KMS-encrypted artifact bucket, so a "
        "project holds no repository URL and no credential. The rule asks for OAuth on GitHub and Bitbucket "
        "sources and reports every project without it; the CodeConnections source, when configured, is an "
        "action of the pipeline with its connection, not a CodeBuild source.",
    ),
    "delivery-pipeline-policies": Accepted(
        ("HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy"),
        "CDK Pipelines generates the policies of the delivery pipeline's roles, inline, one per role, so none can "
        "be attached to another principal. Their write statements without resource constraints are those CDK "
        "generates for every CodeBuild project in a VPC (network-interface calls, which AWS documents with "
        "Resource '*'; CreateNetworkInterfacePermission is limited to the isolated subnets and to CodeBuild) and "
        "for the asset-publishing role (CodeBuild build and log-group calls of the account's projects); data "
        "access (artifact bucket and key, the workload accounts' publishing and deploy roles) names its resources.",
        checkov=("CKV_AWS_111",),
    ),
    "trail-without-cloudwatch-logs": Accepted(
        ("HIPAA.Security-CloudTrailCloudWatchLogsEnabled", "NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled",
         "fmops-control-tower::CT.CLOUDTRAIL.PR.3"),
        "The trail delivers to the log archive only: SSE-KMS, Object Lock on every object, versioned, "
        "VPC-endpoint-only, with CloudTrail log file validation (digest files) on. Nothing in this project "
        "alarms on trail events, so a CloudWatch Logs copy would be a second, mutable store billed for "
        "ingestion of every data event that no one reads; AWS Config's CLOUD_TRAIL_ENABLED and related "
        "managed rules watch that the trail keeps logging.",
    ),
    "log-archive-key-organisation-recorders": Accepted(
        (),
        "The log archive's key names Principal '*' only together with aws:PrincipalOrgID (the organisation), "
        "aws:PrincipalArn (the AWS Config recorder role's name, in any account of it) and kms:ViaService (S3 "
        "of the archive's Region), for GenerateDataKey and Decrypt only: the recorders of the organisation's "
        "accounts, present and future, encrypting their deliveries. Listing the accounts would rewrite the "
        "policy of this retained key whenever an account joins.",
        checkov=("CKV_AWS_33",),
    ),
    "enforced-guardrail-key-account-callers": Accepted(
        (),
        "The invocation-log key, which also encrypts the account's enforced Bedrock guardrail, names "
        "Principal '*' in one statement only, together with aws:PrincipalAccount (this account) and "
        "kms:ViaService (Bedrock of this Region), for Decrypt only: Bedrock applies the enforced guardrail to "
        "every model call of the account, from any role, so any caller of the account must be able to read it "
        "through Bedrock; the logs the key protects are read through CloudWatch Logs and S3, never through "
        "Bedrock.",
        checkov=("CKV_AWS_33",),
    ),
    "config-recorder-role": Accepted(
        ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
         "HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy"),
        "AWS Config's recorder role carries AWS_ConfigRole, the AWS-managed policy of read-only "
        "configuration calls for every resource type Config records, which AWS extends as it adds types "
        "(a copy here would silently stop recording new types). Its only write permissions are an inline "
        "policy of this one role: put objects below its own account's prefix of the log archive and use "
        "the archive's key through S3.",
    ),
}


WILDCARD_REASON = (
    "Wildcard reviewed finding by finding: the policy is generated from reviewed data and every "
    "wildcard is either a service action family or a resource pattern narrowed as follows: "
)


def acknowledge_wildcards(scope: IConstruct, document: dict, why: str) -> None:
    """Acknowledge AwsSolutions-IAM5 one finding at a time, for each wildcard action or resource
    of the Allow statements of ``document``, with ``why`` appended to the registered reason."""
    findings = set()
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        for kind, values in (("Action", statement.get("Action", [])), ("Resource", statement.get("Resource", []))):
            for value in [values] if isinstance(values, str) else values:
                if "*" in value:
                    findings.add(f"AwsSolutions-IAM5[{kind}::{value}]")
    Validations.of(scope).acknowledge(*[Acknowledgment(id=f, reason=WILDCARD_REASON + why) for f in sorted(findings)])


def acknowledge_resolved_wildcards(scope: IConstruct, statements: list[Any], why: str) -> None:
    """:func:`acknowledge_wildcards` for statements whose ARNs hold tokens (``PolicyStatement``
    objects or their JSON): resolved in ``scope``'s stack and written the way cdk-nag names them."""
    resolved = Stack.of(scope).resolve([s.to_statement_json() if hasattr(s, "to_statement_json") else s
                                        for s in statements])
    acknowledge_wildcards(scope, {"Statement": [nag_statement(s) for s in resolved]}, why)


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def nag_form(text: str) -> str:
    """How cdk-nag writes an ``Fn::Sub`` string in a finding id: ``${X}`` becomes ``<X>``."""
    return _SUB_VARIABLE.sub(lambda match: f"<{match.group(1)}>", text)


def nag_notation(value: Any) -> Any:
    """A resolved CloudFormation value in cdk-nag's notation (Ref -> <Id>, GetAtt -> <Id.Attr>)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [nag_notation(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{'.'.join(argument) if isinstance(argument, list) else argument}>"
        if function == "Fn::Join":
            return argument[0].join(str(nag_notation(part)) for part in argument[1])
        if function == "Fn::Sub":
            return nag_form(argument if isinstance(argument, str) else argument[0])
    # cdk-nag's fallback for any other function (Fn::Select, Fn::If...): JavaScript's JSON.stringify.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def nag_statement(statement: dict[str, Any]) -> dict[str, Any]:
    return {key: nag_notation(value) for key, value in statement.items()}


def acknowledge(scope: IConstruct, *keys: str) -> None:
    """Acknowledge the cdk-nag rules registered under ``keys`` on ``scope`` and its children."""
    for key in keys:
        accepted = ACKNOWLEDGMENTS[key]
        if accepted.rules:
            Validations.of(scope).acknowledge(
                *[Acknowledgment(id=rule, reason=accepted.reason) for rule in accepted.rules]
            )
        if accepted.checkov:
            for resource in _cfn_resources(scope):
                _skip_checkov(resource, accepted)


def _cfn_resources(scope: IConstruct) -> list[CfnResource]:
    return [node for node in scope.node.find_all() if isinstance(node, CfnResource)]


def _skip_checkov(resource: CfnResource, accepted: Accepted) -> None:
    metadata = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"] = metadata["skip"] + [{"id": check, "comment": accepted.reason} for check in accepted.checkov]
    resource.add_metadata("checkov", metadata)
