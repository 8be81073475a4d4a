"""The fast token check used when rendering product templates agrees with CDK's own."""

from __future__ import annotations

from aws_cdk import Aws, CfnParameter, Fn, Stack, Token

from fmops_constructs.cfn_text import unresolved


def test_unresolved_agrees_with_token_is_unresolved():
    stack = Stack()
    listed = CfnParameter(stack, "Subnets", type="List<AWS::EC2::Subnet::Id>").value_as_list
    values = ["plain", "arn:${AWS::Partition}:s3:::x", Aws.ACCOUNT_ID, Fn.join("-", ["a", Aws.REGION]),
              f"prefix-{Aws.REGION}-suffix", listed, ["a", "b"], [Aws.REGION], [], Fn.split(",", "a,b")]
    for value in values:
        assert unresolved(value) is Token.is_unresolved(value), value
