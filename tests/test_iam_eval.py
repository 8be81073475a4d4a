"""The offline IAM evaluator, pinned on the rules and examples of AWS's IAM User Guide
(condition operators, multivalued context keys, policy variables, evaluation logic)."""

from __future__ import annotations

import pytest

from infra.compliance.iam_eval import Layers, Principal, Request, conditions_hold, evaluate, trust_allows

ROLE = Principal("arn:aws:iam::111122223333:role/analyst", "111122223333")


def _allow(action="s3:GetObject", resource="*", condition=None, effect="Allow", **extra):
    statement = {"Effect": effect, "Action": action, "Resource": resource, **extra}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


# "If the key that you specify in a policy condition is not present in the request context, the
# values do not match and the condition is false. If the policy condition requires that the key is
# not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
# condition is true." (Condition operators)
@pytest.mark.parametrize(("operator", "expected"), [
    ("StringEquals", False), ("StringLike", False), ("ArnLike", False), ("ArnEquals", False),
    ("StringNotEquals", True), ("StringNotLike", True), ("ArnNotLike", True), ("ArnNotEquals", True),
    ("StringNotEqualsIgnoreCase", True), ("NumericNotEquals", True), ("NotIpAddress", True),
    ("StringEqualsIfExists", True), ("StringNotEqualsIfExists", True),
    ("ForAllValues:StringEquals", True), ("ForAnyValue:StringEquals", False),
    ("ForAllValues:StringNotLike", True), ("ForAnyValue:StringNotLike", False),
])
def test_absent_key(operator, expected):
    assert conditions_hold({operator: {"aws:ResourceTag/team": "1"}}, {}) is expected


def test_null_tests_presence():
    assert conditions_hold({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not conditions_hold({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2026-01-01"})
    assert conditions_hold({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2026-01-01"})


def test_values_of_one_operator_are_ored_and_negated_ones_nored():
    # "If a single negated matching condition operator includes multiple values for a context
    # key, those values are evaluated using a logical NOR." (Multiple context keys or values)
    values = ["a", "b"]
    assert conditions_hold({"StringEquals": {"k": values}}, {"k": "b"})
    assert not conditions_hold({"StringNotEquals": {"k": values}}, {"k": "b"})
    assert conditions_hold({"StringNotEquals": {"k": values}}, {"k": "c"})


def test_operators_and_keys_are_anded():
    condition = {"StringEquals": {"a": "1", "b": "2"}, "Bool": {"aws:SecureTransport": "true"}}
    assert conditions_hold(condition, {"a": "1", "b": "2", "aws:SecureTransport": True})
    assert not conditions_hold(condition, {"a": "1", "b": "2", "aws:SecureTransport": False})
    assert not conditions_hold(condition, {"a": "1", "aws:SecureTransport": True})


def test_set_operators_on_multivalued_keys():
    # The documented aws:TagKeys examples: ForAllValues allows a subset of the listed keys (and
    # an empty set); ForAnyValue needs at least one of them.
    allowed = {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
    assert conditions_hold(allowed, {"aws:TagKeys": ["environment"]})
    assert not conditions_hold(allowed, {"aws:TagKeys": ["environment", "owner"]})
    assert conditions_hold(allowed, {"aws:TagKeys": []})
    anyof = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
    assert conditions_hold(anyof, {"aws:TagKeys": ["owner", "cost-center"]})
    assert not conditions_hold(anyof, {"aws:TagKeys": ["owner"]})
    # An image allow-list on a multivalued key: a Deny with ForAnyValue:ArnNotLike refuses any
    # unlisted image, and is silent when the request names no image at all.
    deny = {"ForAnyValue:ArnNotLike": {"sagemaker:ImageArns": ["arn:aws:sagemaker:*:*:image/ok*"]}}
    assert conditions_hold(deny, {"sagemaker:ImageArns": ["arn:aws:sagemaker:eu-west-1:1:image/ok", "arn:aws:sagemaker:eu-west-1:1:image/evil"]})
    assert not conditions_hold(deny, {"sagemaker:ImageArns": ["arn:aws:sagemaker:eu-west-1:1:image/ok"]})
    assert not conditions_hold(deny, {})


def test_wildcards_and_case():
    assert conditions_hold({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a/b"})
    assert not conditions_hold({"StringLike": {"s3:prefix": "home/?"}}, {"s3:prefix": "home/ab"})
    assert not conditions_hold({"StringEquals": {"k": "Value"}}, {"k": "value"})
    assert conditions_hold({"StringEqualsIgnoreCase": {"k": "Value"}}, {"k": "value"})
    # Condition keys are case-insensitive.
    assert conditions_hold({"StringEquals": {"aws:principaltag/Team": "a"}}, {"aws:PrincipalTag/Team": "a"})


def test_arn_like_matches_each_part_on_its_own():
    # A wildcard in the account part does not reach into the resource part.
    pattern = "arn:aws:iam::*:role/admin"
    assert conditions_hold({"ArnLike": {"aws:PrincipalArn": pattern}}, {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/admin"})
    assert not conditions_hold({"ArnLike": {"aws:PrincipalArn": pattern}}, {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/x/admin2"})


def test_numeric_date_bool_ip():
    assert conditions_hold({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"})
    assert not conditions_hold({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"})
    assert conditions_hold({"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}, {"aws:CurrentTime": "2026-12-06T00:00:00Z"})
    assert conditions_hold({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {"aws:MultiFactorAuthPresent": True})
    assert conditions_hold({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.7"})
    assert conditions_hold({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.1"})


def test_policy_variables():
    # The documented home-folder example: ${aws:username} in the resource, and a tag variable in a
    # condition; a variable whose key is absent matches nothing, unless it has a default.
    policy = _allow("s3:PutObject", "arn:aws:s3:::bucket/home/${aws:username}/*")
    layers = Layers([policy])
    user = Principal("arn:aws:iam::111122223333:user/ana", "111122223333")
    assert evaluate(layers, Request("s3:PutObject", "arn:aws:s3:::bucket/home/ana/x", {"aws:username": "ana"}), user)
    assert not evaluate(layers, Request("s3:PutObject", "arn:aws:s3:::bucket/home/bob/x", {"aws:username": "ana"}), user)
    assert not evaluate(layers, Request("s3:PutObject", "arn:aws:s3:::bucket/home//x", {}), user)
    tagged = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert conditions_hold(tagged, {"aws:ResourceTag/team": "risk", "aws:PrincipalTag/team": "risk"})
    assert not conditions_hold(tagged, {"aws:ResourceTag/team": "risk"})
    assert conditions_hold({"StringEquals": {"k": "${aws:PrincipalTag/x, 'dflt'}"}}, {"k": "dflt"})


def test_explicit_deny_wins_in_every_layer():
    allow = _allow("s3:*")
    deny = _allow("s3:GetObject", effect="Deny")
    request = Request("s3:GetObject", "arn:aws:s3:::b/k")
    assert evaluate(Layers([allow]), request, ROLE)
    assert not evaluate(Layers([allow, deny]), request, ROLE)
    assert not evaluate(Layers([allow], boundary={"Statement": [*allow["Statement"], *deny["Statement"]]}), request, ROLE)
    assert not evaluate(Layers([allow], scp_levels=[[allow, deny]]), request, ROLE)
    assert not evaluate(Layers([allow]), request, ROLE, resource_policy=_allow("s3:GetObject", effect="Deny", Principal="*"))


def test_boundary_and_every_scp_level_must_allow():
    request = Request("s3:GetObject", "arn:aws:s3:::b/k")
    identity = Layers([_allow("s3:*")], boundary=_allow("ec2:*"))
    assert evaluate(identity, request, ROLE).reason == "boundary: no Allow"
    scps = Layers([_allow("s3:*")], scp_levels=[[_allow("*")], [_allow("ec2:*")]])
    assert evaluate(scps, request, ROLE).reason == "scp level 1: no Allow"


def test_resource_policies_same_and_cross_account():
    request = Request("s3:GetObject", "arn:aws:s3:::b/k")
    bucket = _allow("s3:GetObject", "arn:aws:s3:::b/*", Principal={"AWS": ROLE.arn})
    assert evaluate(Layers([]), request, ROLE, resource_policy=bucket, resource_account=ROLE.account)
    assert not evaluate(Layers([]), request, ROLE, resource_policy=bucket, resource_account="444455556666")
    assert evaluate(Layers([_allow("s3:*")]), request, ROLE, resource_policy=bucket, resource_account="444455556666")


def test_kms_key_policy_must_allow_or_delegate():
    request = Request("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k")
    identity = Layers([_allow("kms:Decrypt")])
    delegate = _allow("kms:*", Principal={"AWS": "arn:aws:iam::111122223333:root"})
    only_other = _allow("kms:*", Principal={"AWS": "arn:aws:iam::111122223333:role/other"})
    assert evaluate(identity, request, ROLE, kms_key_policy=delegate)
    assert not evaluate(Layers([]), request, ROLE, kms_key_policy=delegate)
    assert not evaluate(identity, request, ROLE, kms_key_policy=only_other)


def test_endpoint_policy_must_allow():
    request = Request("s3:PutObject", "arn:aws:s3:::b/k")
    endpoint = _allow("s3:GetObject", Principal="*")
    assert not evaluate(Layers([_allow("s3:*")]), request, ROLE, endpoint_policy=endpoint)
    assert evaluate(Layers([_allow("s3:*")]), Request("s3:GetObject", "arn:aws:s3:::b/k"), ROLE, endpoint_policy=endpoint)


def test_not_action_not_resource():
    policy = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}]}
    assert evaluate(Layers([policy]), Request("s3:GetObject", "arn:aws:s3:::b/k"), ROLE)
    assert not evaluate(Layers([policy]), Request("iam:CreateUser", "*"), ROLE)
    assert not evaluate(Layers([policy]), Request("s3:GetObject", "arn:aws:s3:::secret/k"), ROLE)


def test_trust_of_a_passed_role():
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    assert trust_allows(trust, "sagemaker.amazonaws.com")
    assert not trust_allows(trust, "lambda.amazonaws.com")
