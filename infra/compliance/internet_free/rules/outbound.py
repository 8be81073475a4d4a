"""Data, code and credentials that cross the account boundary: knowledge-base sources,
EventBridge HTTP targets, notifications, Firehose, AppFlow, code hosts, IAM user credentials.
"""

from __future__ import annotations

from infra.compliance.internet_free.intrinsics import (
    MISSING,
    at,
    is_intrinsic,
    referenced_ids,
    show,
    template_resource,
)
from infra.compliance.internet_free.predicates import (
    may_be_absent,
    may_be_other_than,
    may_be_true,
    present,
    when,
)
from infra.compliance.internet_free.registry import Subject, rule

PERIMETER = "network"


@rule("IF-BEDROCK-DATASOURCE", "Knowledge bases read only from S3 or the account", "AWS::Bedrock::DataSource")
def bedrock_data_source(s: Subject) -> list[str]:
    """A knowledge-base data source of type WEB crawls the internet; CONFLUENCE, SALESFORCE,
    SHAREPOINT and managed connectors read SaaS on the internet.

    Fix: stage documents in S3 (type S3) or ingest them directly (CUSTOM).
    """
    kind = s.at("DataSourceConfiguration", "Type")
    if may_be_other_than(kind, "S3", "CUSTOM", "REDSHIFT_METADATA"):
        return [f"data source type {', '.join(show(k, s.template) for k in kind)} reads from the internet"]
    return []


@rule(
    "IF-EVENTS-HTTP",
    "No EventBridge call to a public HTTP endpoint",
    "AWS::Events::Connection",
    "AWS::Events::ApiDestination",
)
def events_http(s: Subject) -> list[str]:
    """An EventBridge connection without InvocationConnectivityParameters calls a public HTTPS
    endpoint (API destinations, Step Functions HTTP tasks); an API destination is a finding
    unless its connection is a private one in the same template.

    Fix: InvocationConnectivityParameters with a VPC Lattice resource configuration.
    """
    if s.type == "AWS::Events::Connection":
        return when(may_be_absent(s.at("InvocationConnectivityParameters")), "connection calls a public endpoint")
    for connection_arn in s.at("ConnectionArn"):
        connections = [
            template_resource(s.template, target)
            for target in referenced_ids(connection_arn)
            if template_resource(s.template, target).get("Type") == "AWS::Events::Connection"
        ]
        private = connections and "InvocationConnectivityParameters" in connections[0].get("Properties", {})
        if not private:
            return ["API destination through a public or unknown connection"]
    return []


_EXTERNAL_PROTOCOLS = ("http", "https", "email", "email-json", "sms", "application")


@rule(
    "IF-NOTIFY-EXTERNAL",
    "No notification to the internet",
    "AWS::SNS::Subscription",
    "AWS::SNS::Topic",
    "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
)
def external_notification(s: Subject) -> list[str]:
    """SNS subscriptions over HTTP(S), email, SMS or mobile push, and Chatbot channels (Slack,
    Teams), deliver message content to the internet. Unknown protocols are findings.

    Fix: deliver to SQS, Lambda or Firehose in the account.
    """
    if s.type.startswith("AWS::Chatbot::"):
        return [f"{s.type.rsplit('::', 1)[1]}: sends notifications to a chat service"]
    if s.type == "AWS::SNS::Subscription":
        protocols = s.at("Protocol")
    else:
        entries = [entry for entry in s.flat("Subscription") if isinstance(entry, dict)]
        protocols = [protocol for entry in entries for protocol in at(entry, s.template, "Protocol")]
    return [
        f"subscription protocol {show(protocol, s.template)} leaves AWS"
        for protocol in protocols
        if is_intrinsic(protocol) or str(protocol).lower() in _EXTERNAL_PROTOCOLS
    ]


@rule("IF-FIREHOSE-EXTERNAL", "No Firehose delivery to the internet", "AWS::KinesisFirehose::DeliveryStream")
def firehose_external(s: Subject) -> list[str]:
    """HTTP endpoint and Splunk destinations deliver records to the internet, and Snowflake
    does too without a PrivateLink VPC configuration.

    Fix: deliver to S3, Redshift, OpenSearch or Iceberg in the account.
    """
    messages = [
        f"{key}: delivers to the internet"
        for key in ("HttpEndpointDestinationConfiguration", "SplunkDestinationConfiguration")
        if present(s.at(key))
    ]
    snowflake = ("SnowflakeDestinationConfiguration",)
    if present(s.at(*snowflake)) and may_be_absent(s.at(*snowflake, "SnowflakeVpcConfiguration")):
        messages.append("Snowflake destination without SnowflakeVpcConfiguration")
    return messages


@rule(
    "IF-APPFLOW-SAAS",
    "No AppFlow SaaS connection",
    "AWS::AppFlow::ConnectorProfile",
    "AWS::AppFlow::Connector",
)
def appflow_saas(s: Subject) -> list[str]:
    """AppFlow connector profiles and custom connectors move data to and from SaaS
    applications on the internet.

    Fix: remove them.
    """
    return [f"{s.type.rsplit('::', 1)[1]}: data exchange with a SaaS application"]


_EXTERNAL_SOURCES = ("GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED")


@rule(
    "IF-CODE-SOURCE-EXTERNAL",
    "No source code from an internet host",
    "AWS::CodeStarConnections::Connection",
    "AWS::CodeConnections::Connection",
    "AWS::CodePipeline::Webhook",
    "AWS::CodeBuild::SourceCredential",
    "AWS::CodeBuild::Project",
    perimeter="supply-chain",
)
def external_source(s: Subject) -> list[str]:
    """Connections, webhooks and source credentials for GitHub, GitLab or Bitbucket bring code in
    from the internet and let the internet trigger builds.

    Fix: use CodeCommit or S3 sources in the account; exempt the governance pipeline's
    connection with a reason if the organisation accepts it.
    """
    if s.type != "AWS::CodeBuild::Project":
        return [f"{s.type.rsplit('::', 1)[1]}: link to an internet code host"]
    secondary = [source for source in s.flat("SecondarySources") if isinstance(source, dict)]
    kinds = s.at("Source", "Type") + [kind for source in secondary for kind in at(source, s.template, "Type")]
    messages = [f"source type {kind} is an internet code host" for kind in kinds if kind in _EXTERNAL_SOURCES]
    if may_be_true([value for value in s.at("Triggers", "Webhook") if value is not MISSING]):
        messages.append("webhook trigger from an internet code host")
    return messages


@rule(
    "IF-IAM-USER-CREDENTIALS",
    "No long-lived IAM user credentials",
    "AWS::IAM::AccessKey",
    "AWS::IAM::User",
    perimeter="resource",
)
def iam_user_credentials(s: Subject) -> list[str]:
    """Access keys and console passwords are credentials that work from anywhere on the
    internet; roles federated through SSO do not leave keys behind.

    Fix: use IAM Identity Center and roles.
    """
    if s.type == "AWS::IAM::AccessKey":
        return ["access key: long-lived credential usable from the internet"]
    return when(present(s.at("LoginProfile")), "LoginProfile: console password usable from the internet")
