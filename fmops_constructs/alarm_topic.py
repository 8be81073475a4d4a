"""A team's alarm topic in one account, and who it reaches.

Every CloudWatch alarm of the team in the account (its FM endpoints, its hosted projects, the
dead letters of its functions) publishes to this one topic, and so do the team's EventBridge
notifications that are not alarms (:meth:`AlarmTopic.allow_event_rules`: model approvals of its
projects, promoted models arriving): encrypted with its own KMS key, TLS only, and writable only by
CloudWatch alarms and those EventBridge rules of this account (topic policy and key policy both
check ``aws:SourceAccount`` and ``aws:SourceArn``). Its subscribers are the config's: e-mail addresses, and Slack or Microsoft
Teams channels through AWS Chatbot. Each of them takes alarm text out of AWS, which the
internet-free rule IF-NOTIFY-EXTERNAL refuses; each carries an exemption naming the config field
that asked for it, so the report lists it as the config owner's choice instead of hiding it.

The Chatbot channels can run no command: their guardrail is the AWS managed ``AWSDenyAll`` policy
(without one, Chatbot applies ``AdministratorAccess``) and their role has no policy; they only
relay the topic's messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from fmops_constructs.aspects import exempt_from_internet_free
from fmops_constructs.kms import EncryptionKey

NOTIFY_RULE = "IF-NOTIFY-EXTERNAL"
# An AWS managed policy that denies every action: the most a chat channel's users may do.
CHANNEL_GUARDRAIL = "arn:{partition}:iam::aws:policy/AWSDenyAll"


@dataclass(frozen=True)
class SlackTarget:
    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class TeamsTarget:
    tenant_id: str
    team_id: str
    channel_id: str


def dead_letter_alarm(scope: Construct, construct_id: str, *, topic: sns.ITopic, alarm_name: str,
                      description: str, alarm_topic_arn: str) -> cloudwatch.CfnAlarm:
    """An alarm on every message a dead-letter topic receives, to the team's alarm topic: the
    team hears of each failure while the failed event (with its content) stays in AWS."""
    return cloudwatch.CfnAlarm(
        scope, construct_id, alarm_name=alarm_name, alarm_description=description,
        namespace="AWS/SNS", metric_name="NumberOfMessagesPublished",
        dimensions=[cloudwatch.CfnAlarm.DimensionProperty(name="TopicName", value=topic.topic_name)],
        statistic="Sum", period=300, evaluation_periods=1, threshold=0,
        comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
        alarm_actions=[alarm_topic_arn])


class AlarmTopic(Construct):
    """The alarm topic of one team in one account (see the module docstring).

    :param topic_name: the topic's name (products find it by name).
    :param key_alias: alias of the topic's key.
    :param description: what the key protects.
    :param emails: e-mail subscribers.
    :param slack: Slack channels (AWS Chatbot).
    :param teams: Microsoft Teams channels (AWS Chatbot).
    :param chosen_in: where the config asks for the subscribers (e.g. ``teams[0].alarms``), named
        in the internet-free exemption of each.
    """

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, key_alias: str, description: str,
                 emails: Sequence[str] = (), slack: Sequence[SlackTarget] = (), teams: Sequence[TeamsTarget] = (),
                 chosen_in: str) -> None:
        super().__init__(scope, construct_id)
        if not (emails or slack or teams):
            raise ValueError(f"alarm topic {topic_name}: no subscriber, its alarms would reach no one")
        stack = Stack.of(self)
        self.key = EncryptionKey(self, "Key", alias=key_alias, description=description)
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, master_key=self.key, enforce_ssl=True,
                               display_name=f"Alarms ({topic_name})")
        from_alarms_here = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"},
        }
        self._admit("cloudwatch.amazonaws.com", "CloudWatchAlarms", from_alarms_here)
        self._event_rules: list[str] = []
        self.subscriptions: list[sns.Subscription] = []
        for index, email in enumerate(emails):
            subscription = sns.Subscription(self, f"Email{index}", topic=self.topic,
                                            protocol=sns.SubscriptionProtocol.EMAIL, endpoint=email)
            exempt_from_internet_free(subscription.node.default_child, [NOTIFY_RULE],  # type: ignore[arg-type]
                                      f"e-mail subscriber {email} of the team's alarms, listed by the config "
                                      f"({chosen_in}): alarm text leaves AWS by the config owner's choice")
            self.subscriptions.append(subscription)
        self.channels: list[chatbot.CfnSlackChannelConfiguration | chatbot.CfnMicrosoftTeamsChannelConfiguration] = []
        if slack or teams:
            self._channels(topic_name, slack, teams, chosen_in)

    def allow_event_rules(self, rule_names: Sequence[str]) -> None:
        """EventBridge rules of this account named ``rule_names`` (``*`` wildcards allowed) may
        publish to the topic: the team's notifications that are not alarms (model approvals and
        rejections of its projects, models arriving from the previous stage), so that they reach
        the same subscribers. Topic policy and key policy both check ``aws:SourceAccount`` and
        ``aws:SourceArn``."""
        if self._event_rules:
            raise ValueError("allow_event_rules is called once, with every rule name")
        stack = Stack.of(self)
        self._event_rules = list(rule_names)
        from_rules_here = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": [f"arn:{stack.partition}:events:{stack.region}:{stack.account}:rule/{name}"
                                          for name in rule_names]},
        }
        self._admit("events.amazonaws.com", "TeamEventRules", from_rules_here)

    def _admit(self, service: str, sid: str, conditions: dict) -> None:
        """``service`` may publish to the topic, and encrypt with its key, under ``conditions``."""
        principal = iam.ServicePrincipal(service)
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid=f"{sid}OfThisAccount", principals=[principal], actions=["sns:Publish"],
            resources=[self.topic.topic_arn], conditions=conditions))
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid=f"{sid}PublishEncrypted", principals=[principal],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"], conditions=conditions))

    def _channels(self, topic_name: str, slack: Sequence[SlackTarget], teams: Sequence[TeamsTarget],
                  chosen_in: str) -> None:
        stack = Stack.of(self)
        role = iam.Role(self, "ChannelRole", assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
                        description=f"AWS Chatbot channels of {topic_name}: relay alarms, no permission")
        common = {"iam_role_arn": role.role_arn, "sns_topic_arns": [self.topic.topic_arn],
                  "guardrail_policies": [CHANNEL_GUARDRAIL.format(partition=stack.partition)],
                  "user_role_required": False, "logging_level": "NONE"}
        for index, target in enumerate(slack):
            channel = chatbot.CfnSlackChannelConfiguration(
                self, f"Slack{index}", configuration_name=f"{topic_name}-slack-{index}",
                slack_workspace_id=target.workspace_id, slack_channel_id=target.channel_id, **common)
            exempt_from_internet_free(channel, [NOTIFY_RULE], f"Slack channel {target.channel_id} of workspace "
                                      f"{target.workspace_id} receives the team's alarms, listed by the config "
                                      f"({chosen_in}.slack): alarm text leaves AWS by the config owner's choice")
            self.channels.append(channel)
        for index, target in enumerate(teams):
            channel = chatbot.CfnMicrosoftTeamsChannelConfiguration(
                self, f"Teams{index}", configuration_name=f"{topic_name}-teams-{index}",
                teams_tenant_id=target.tenant_id, team_id=target.team_id, teams_channel_id=target.channel_id,
                **common)
            exempt_from_internet_free(channel, [NOTIFY_RULE], f"Microsoft Teams channel of team {target.team_id} "
                                      f"receives the team's alarms, listed by the config ({chosen_in}.teams): "
                                      "alarm text leaves AWS by the config owner's choice")
            self.channels.append(channel)
