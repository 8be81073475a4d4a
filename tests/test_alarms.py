"""Every CloudWatch alarm reaches someone: in every stack and every product template of both
configs, each alarm's actions include an SNS topic, and that topic has a subscriber (an SNS
subscription, or an AWS Chatbot channel). Topics are followed across stacks (exports) and from
products to the team stack (the SSM parameter the catalog stack writes), the way CloudFormation
resolves them. Plus the config fields of the subscribers and their refusals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from fmops_constructs.alarm_topic import NOTIFY_RULE
from infra.compliance.internet_free import check_template
from infra.compliance.internet_free.registry import exempted
from infra.config import ConfigError, load_config
from tests.conftest import REPO, load_templates, product_templates, resources

ALARM_PARAMETER = "alarm-topic-arn"


class Org:
    """The templates of one synthesized config, and where a topic reference leads."""

    def __init__(self, assembly: Path) -> None:
        self.stacks = load_templates(assembly)
        self.products = {(stack, template_id): template
                         for stack in self.stacks if stack.endswith("-catalog")
                         for template_id, template in product_templates(assembly, stack).items()}
        self.exports = {output["Export"]["Name"]: (stack, output["Value"])
                        for stack, template in self.stacks.items()
                        for output in template.get("Outputs", {}).values() if "Export" in output}

    def topic(self, stack: str, template: dict, action: Any, catalog: str | None = None) -> tuple[str, str]:
        """(stack, logical id) of the SNS topic an AlarmActions entry names."""
        if isinstance(action, dict) and "Fn::ImportValue" in action:
            exporter, value = self.exports[action["Fn::ImportValue"]]
            return self.topic(exporter, self.stacks[exporter], value)
        if isinstance(action, dict) and "Ref" in action:
            name = action["Ref"]
            if template["Resources"].get(name, {}).get("Type") == "AWS::SNS::Topic":
                return stack, name
            default = template.get("Parameters", {}).get(name, {}).get("Default", "")
            if catalog is not None and default.endswith(f"/{ALARM_PARAMETER}"):
                return self._from_parameter(catalog, default)
        if stack.endswith("-catalog") and (isinstance(action, str) or (isinstance(action, dict) and "Fn::Join" in action)):
            text = action if isinstance(action, str) else "".join(p for p in action["Fn::Join"][1] if isinstance(p, str))
            if ":sns:" in text:  # an ARN by name (format_arn): the team stack's topic
                return self._by_name(stack, text.rsplit(":", 1)[1])
        raise AssertionError(f"{stack}: alarm action {action} is not an SNS topic")

    def _by_name(self, catalog: str, topic_name: str) -> tuple[str, str]:
        team_stack = catalog.removesuffix("-catalog")
        found = [logical_id for logical_id, r in resources(self.stacks[team_stack], "AWS::SNS::Topic").items()
                 if r["Properties"].get("TopicName") == topic_name]
        assert found, f"{catalog}: topic {topic_name} is not created by {team_stack}"
        return team_stack, found[0]

    def _from_parameter(self, catalog: str, parameter: str) -> tuple[str, str]:
        """A product's topic parameter: the SSM parameter its catalog stack writes, naming the topic
        of the team stack of the same account."""
        [value] = [r["Properties"]["Value"] for r in resources(self.stacks[catalog], "AWS::SSM::Parameter").values()
                   if r["Properties"]["Name"] == parameter]
        text = value if isinstance(value, str) else "".join(p for p in value["Fn::Join"][1] if isinstance(p, str))
        return self._by_name(catalog, text.rsplit(":", 1)[1])

    def subscribers(self, stack: str, topic: str) -> list[str]:
        template = self.stacks[stack]
        ref = {"Ref": topic}
        found = [f"{r['Properties']['Protocol']}:{r['Properties']['Endpoint']}"
                 for r in resources(template, "AWS::SNS::Subscription").values() if r["Properties"]["TopicArn"] == ref]
        found += [f"chatbot:{logical_id}" for kind in ("AWS::Chatbot::SlackChannelConfiguration",
                                                        "AWS::Chatbot::MicrosoftTeamsChannelConfiguration")
                  for logical_id, r in resources(template, kind).items() if ref in r["Properties"]["SnsTopicArns"]]
        return found

    def alarms(self):
        """(where, stack, template, logical id, alarm, catalog stack or None) of every alarm."""
        for stack, template in self.stacks.items():
            for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
                yield stack, stack, template, logical_id, alarm, None
        for (catalog, template_id), template in self.products.items():
            for logical_id, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
                yield f"{catalog}/{template_id}", catalog, template, logical_id, alarm, catalog


@pytest.fixture(scope="module", params=["default", "single"])
def org(request) -> Org:
    return Org(request.getfixturevalue(f"{request.param}_assembly"))


def test_every_alarm_publishes_to_a_topic_with_a_subscriber(org: Org):
    checked = 0
    for where, stack, template, logical_id, alarm, catalog in org.alarms():
        actions = alarm["Properties"].get("AlarmActions", [])
        topics = [org.topic(stack, template, a, catalog) for a in actions
                  if not (isinstance(a, dict) and "Ref" in a
                          and template["Resources"].get(a["Ref"], {}).get("Type")
                          == "AWS::ApplicationAutoScaling::ScalingPolicy")]
        assert topics, f"{where}: alarm {logical_id} notifies no topic"
        for topic_stack, topic in topics:
            assert org.subscribers(topic_stack, topic), f"{where}: alarm {logical_id} -> {topic_stack}/{topic}: no subscriber"
        checked += 1
    assert checked >= 3  # fm-hosting's three at least (and the endpoints' in the default config)


def _dead_letter_alarm(org: Org, stack: str, template: dict, topic: str, catalog: str | None) -> bool:
    """Whether an alarm on the topic's published messages reaches a topic with a subscriber."""
    name = template["Resources"][topic]["Properties"].get("TopicName")
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if (props.get("Namespace"), props.get("MetricName")) != ("AWS/SNS", "NumberOfMessagesPublished"):
            continue
        if props.get("Dimensions") != [{"Name": "TopicName", "Value": {"Fn::GetAtt": [topic, "TopicName"]}}] and \
                props.get("Dimensions") != [{"Name": "TopicName", "Value": name}]:
            continue
        assert props["Threshold"] == 0 and props["ComparisonOperator"] == "GreaterThanThreshold"
        return all(org.subscribers(*org.topic(stack, template, action, catalog)) for action in props["AlarmActions"])
    return False


def test_every_topic_reaches_the_team(org: Org):
    """Every SNS topic of every stack and product template has a subscriber (e-mail, chat), or is a
    dead-letter topic (failed events with their content, which must not leave AWS) whose every
    message raises an alarm that reaches a subscribed topic; every EventBridge rule that notifies
    a topic notifies a subscribed one (the team's)."""
    topics = [(stack, stack, template, None) for stack, template in org.stacks.items()]
    topics += [(f"{catalog}/{template_id}", catalog, template, catalog)
               for (catalog, template_id), template in org.products.items()]
    seen = dead_letters = notices = 0
    for where, stack, template, catalog in topics:
        for logical_id in resources(template, "AWS::SNS::Topic"):
            seen += 1
            if catalog is None and org.subscribers(stack, logical_id):
                continue
            assert _dead_letter_alarm(org, stack, template, logical_id, catalog), \
                f"{where}: topic {logical_id} has no subscriber and no dead-letter alarm to the team"
            dead_letters += 1
        for logical_id, rule in resources(template, "AWS::Events::Rule").items():
            for target in rule["Properties"].get("Targets", []):
                arn = target["Arn"]
                try:
                    topic_stack, topic = org.topic(stack, template, arn, catalog)
                except AssertionError:
                    continue  # a function or pipeline
                assert org.subscribers(topic_stack, topic), f"{where}: rule {logical_id} -> {topic}: no subscriber"
                notices += 1
    assert seen and notices
    if any(template_id == "genai-app" for _, template_id in org.products):  # its back-end's dead letters
        assert dead_letters


def test_alarm_topics_are_encrypted_and_only_this_accounts_alarms_publish(org: Org):
    for stack, template in org.stacks.items():
        for logical_id, topic in resources(template, "AWS::SNS::Topic").items():
            if not str(topic["Properties"].get("TopicName", "")).endswith("-alarms"):
                continue
            key = topic["Properties"]["KmsMasterKeyId"]
            assert "Fn::GetAtt" in key and template["Resources"][key["Fn::GetAtt"][0]]["Type"] == "AWS::KMS::Key"
            [policy] = [p for p in resources(template, "AWS::SNS::TopicPolicy").values()
                        if {"Ref": logical_id} in p["Properties"]["Topics"]]
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            publish = [s for s in statements if s["Effect"] == "Allow"]
            # CloudWatch alarms, and the team's EventBridge notification rules, of this account only.
            assert [s["Principal"] for s in publish] == [{"Service": "cloudwatch.amazonaws.com"},
                                                         {"Service": "events.amazonaws.com"}]
            for statement in publish:
                assert statement["Action"] == "sns:Publish"
                assert set(statement["Condition"]) == {"StringEquals", "ArnLike"}
            rules = publish[1]["Condition"]["ArnLike"]["aws:SourceArn"]
            team = stack.rsplit("-", 1)[1]
            assert [str(r).rsplit("rule/", 1)[1].split('"')[0] for r in rules] == [f"{team}-*",
                                                                                   f"fmops-{team}-model-import"]
            assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                       for s in statements)
            key_policy = template["Resources"][key["Fn::GetAtt"][0]]["Properties"]["KeyPolicy"]["Statement"]
            [cloudwatch] = [s for s in key_policy if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
            assert set(cloudwatch["Condition"]) == {"StringEquals", "ArnLike"}


def test_every_subscription_leaving_aws_is_an_exemption_naming_the_config(org: Org):
    """IF-NOTIFY-EXTERNAL stays a rule: e-mail and chat are registered as the config's choice, and
    the same subscription without its exemption is a finding."""
    seen = 0
    for stack, template in org.stacks.items():
        for kind in ("AWS::SNS::Subscription", "AWS::Chatbot::SlackChannelConfiguration",
                     "AWS::Chatbot::MicrosoftTeamsChannelConfiguration"):
            for logical_id, resource in resources(template, kind).items():
                assert exempted(resource) == {NOTIFY_RULE}, f"{stack}/{logical_id}"
                reason = resource["Metadata"]["fmops:internet-free-exempt"]["reason"]
                assert re.search(r"team \w+'s (alarms|budget\.alert_emails)", reason), reason
                bare = {"Resources": {logical_id: {k: v for k, v in resource.items() if k != "Metadata"}}}
                assert [f.rule_id for f in check_template(bare, stack)] == [NOTIFY_RULE]
                seen += 1
    assert seen


def test_default_config_relays_alarms_to_slack_with_a_deny_all_guardrail(default_templates):
    team = default_templates["fmops-genai-dev-genai"]
    [channel] = resources(team, "AWS::Chatbot::SlackChannelConfiguration").values()
    props = channel["Properties"]
    assert props["GuardrailPolicies"] == ["arn:aws:iam::aws:policy/AWSDenyAll"]  # the stack knows its partition
    assert props["UserRoleRequired"] is False
    [role] = [r for r in resources(team, "AWS::IAM::Role").values()
              if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
              == {"Service": "chatbot.amazonaws.com"}]
    assert "Policies" not in role["Properties"] and "ManagedPolicyArns" not in role["Properties"]
    emails = sorted(r["Properties"]["Endpoint"] for r in resources(team, "AWS::SNS::Subscription").values())
    assert emails == ["genai-oncall@example.com"]  # alarms: given, so not the budget's addresses
    risk = default_templates["fmops-risk-dev-risk"]
    assert sorted(r["Properties"]["Endpoint"] for r in resources(risk, "AWS::SNS::Subscription").values()) == [
        "risk-ml-leads@example.com"]  # no alarms: the budget's alert_emails


SINGLE = REPO / "config" / "single-account.yaml"
SUBSCRIBERS = "    alarms: {emails: [pilot-oncall@example.com]}\n"


def _single(tmp_path: Path, replacement: str) -> Path:
    text = SINGLE.read_text()
    assert SUBSCRIBERS in text
    path = tmp_path / "trial.yaml"
    path.write_text(text.replace(SUBSCRIBERS, replacement))
    return path


@pytest.mark.parametrize(("replacement", "field", "message"), [
    ("", "teams[0](name=pilot).features", "feature hosting raises CloudWatch alarms (endpoint latency, errors, capacity) "
                              "that would reach no one: add alarms with emails"),
    ("    alarms: {}\n", "teams[0](name=pilot).alarms.emails", "alarms lists no subscriber"),
    ("    alarms: {emails: [not-an-address]}\n", "teams[0](name=pilot).alarms.emails[0]", "not-an-address"),
    ("    alarms: {emails: [a@example.com, a@example.com]}\n", "teams[0](name=pilot).alarms.emails", "emails has duplicates"),
    ("    alarms: {slack: [{workspace_id: t-lower, channel_id: C01}]}\n", "teams[0](name=pilot).alarms.slack[0].workspace_id",
     "t-lower"),
    ("    alarms: {teams: [{tenant_id: x, team_id: x, channel_id: x}]}\n", "teams[0](name=pilot).alarms.teams[0].tenant_id", "'x'"),
])
def test_bad_alarm_subscribers_are_refused_on_their_line(tmp_path, replacement, field, message):
    path = _single(tmp_path, replacement)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    text = str(error.value)
    assert re.search(rf"{re.escape(str(path))}:\d+: {re.escape(field)}: ", text), text
    assert message in text


def test_chat_channels_and_emails_are_accepted(tmp_path):
    config = load_config(_single(tmp_path, (
        "    alarms:\n      emails: [oncall@example.com]\n"
        "      slack: [{workspace_id: T0123ABCD, channel_id: C0123ABCD}]\n"
        "      teams: [{tenant_id: 11111111-2222-3333-4444-555555555555, team_id: "
        "66666666-7777-8888-9999-000000000000, channel_id: '19%3aabc%40thread.tacv2'}]\n")))
    alarms = config.teams[0].alarms
    assert alarms.emails == ["oncall@example.com"] and alarms.slack[0].channel_id == "C0123ABCD"
    assert alarms.teams[0].channel_id == "19%3aabc%40thread.tacv2"
