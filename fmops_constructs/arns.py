"""ARNs in the deploying stack's own account, written so they read the same in every account."""

from __future__ import annotations

from fmops_constructs.cfn_text import fn_sub


def own_arn(service: str, resource: str) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>`` of the deploying stack, with
    pseudo parameters instead of literals.

    Stacks in this app have explicit environments, so CDK would write the account and region as
    literals; with pseudo parameters the same policy statement, and the cdk-nag finding that a
    wildcard in it raises (``AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:...]``), is
    identical in every account, and one registered acknowledgment covers it everywhere.
    """
    return fn_sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")
