"""No side doors (issue 13): key policies, endpoint policies, the S3 gateway endpoint, Control Tower.

Asserted on the synthesized templates of both shipped configs (every stack and every Service
Catalog product template), and evaluated with the project's IAM evaluator against the requests
an attacker would try: a direct KMS call, a call through a service the key is not for, another
account's credentials, another account's bucket, a bucket outside the organisation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fmops_constructs.kms import ADMIN_ACTIONS, USE_ACTIONS
from infra.assembly import read_stacks
from infra.assembly.assets import template_files
from infra.compliance.iam_eval import Layers, Principal, Request, evaluate
from infra.config import DEFAULT_CONFIG, load_config
from infra.personas.workflows.principals import _Resolver
from tests.conftest import REPO

REGION = "eu-west-1"
DEFAULT = load_config(DEFAULT_CONFIG)
ORG_ID = DEFAULT.organisation.aws_organization_id
SINGLE_ACCOUNT = load_config(REPO / "config" / "single-account.yaml").accounts[0].id
OUTSIDE = "999999999999"  # an account of no organisation of ours: the attacker's
FULL_ACCESS = Layers([{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}])
CRYPTO = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant")


def _resources(assembly: Path, resource_type: str) -> list[tuple[str, str, str, dict]]:
    """(account, template file name, logical id, resolved properties) of every resource of
    ``resource_type`` in every template of the assembly, products included."""
    found = []
    for stack in read_stacks(assembly):
        for path in template_files([stack]):
            template = json.loads(path.read_text())
            resolver = _Resolver(stack.account, stack.region, template)
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == resource_type:
                    found.append((stack.account, path.name, logical_id, resolver.value(resource.get("Properties", {}))))
    return found


@pytest.fixture(scope="module", params=["default", "single"])
def assembly(request) -> Path:
    return request.getfixturevalue(f"{request.param}_assembly")


@pytest.fixture(scope="module")
def keys(assembly) -> list[tuple[str, str, str, dict]]:
    return _resources(assembly, "AWS::KMS::Key")


@pytest.fixture(scope="module")
def endpoints(assembly) -> list[tuple[str, str, str, dict]]:
    return _resources(assembly, "AWS::EC2::VPCEndpoint")


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _root_of(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def _key_request(action: str, key: str, account: str, **context) -> Request:
    return Request(action, f"arn:aws:kms:{REGION}:{account}:key/{key}", {"kms:CallerAccount": account, **context})


def _role(account: str) -> Principal:
    return Principal(f"arn:aws:iam::{account}:role/anyone", account)


# -- key policies ------------------------------------------------------------------------------------

def test_every_key_of_every_stack_and_product_is_found(keys):
    assert len(keys) >= 8  # default: 39, single account: 8


def test_no_key_trusts_its_account_with_data_outside_a_service(keys):
    """The account (``...:root``, whoever IAM allows) gets administration only, unconditionally;
    any other Allow to it names kms:ViaService and kms:CallerAccount. No ``kms:*``, no CreateGrant
    without kms:GrantIsForAWSResource."""
    for account, template, logical_id, props in keys:
        for statement in props["KeyPolicy"]["Statement"]:
            actions = _as_list(statement.get("Action", []))
            where = f"{template} {logical_id} {statement.get('Sid')}"
            assert "kms:*" not in actions, where
            principals = _as_list((statement.get("Principal") or {}).get("AWS", [])) \
                if isinstance(statement.get("Principal"), dict) else []
            if statement["Effect"] != "Allow" or _root_of(account) not in principals:
                continue
            if statement.get("Sid") == "KeyAdministration":
                assert set(actions) == set(ADMIN_ACTIONS), where
                continue
            conditions = statement.get("Condition", {})
            equals = conditions.get("StringEquals", {})
            # this account's callers, or one named role of it (the Config recorder)
            named = any("aws:PrincipalArn" in block for block in conditions.values())
            assert "kms:ViaService" in equals and (equals.get("kms:CallerAccount") == account or named), where
            if "kms:CreateGrant" in actions:
                assert statement["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}, where


def test_every_key_denies_grants_outside_aws_services(keys):
    for _, template, logical_id, props in keys:
        [deny] = [s for s in props["KeyPolicy"]["Statement"] if s.get("Sid") == "DenyGrantsOutsideAwsServices"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {
            "BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}}, template


def _services(props: dict) -> set[str]:
    return {via for s in props["KeyPolicy"]["Statement"] if s.get("Sid", "").startswith("ThisAccountThrough")
            for via in _as_list(s["Condition"]["StringEquals"]["kms:ViaService"])}


def test_a_key_is_refused_to_direct_calls_other_services_and_other_accounts(keys):
    """What an attacker with the account's credentials and an admin IAM policy tries, per key."""
    for account, template, logical_id, props in keys:
        policy = props["KeyPolicy"]
        where = f"{template} {logical_id}"
        for action in CRYPTO:
            direct = _key_request(action, logical_id, account)
            assert not evaluate(FULL_ACCESS, direct, _role(account), kms_key_policy=policy), (where, action)
            unlisted = _key_request(action, logical_id, account, **{"kms:ViaService": f"redshift.{REGION}.amazonaws.com",
                                                                    "kms:GrantIsForAWSResource": True})
            assert not evaluate(FULL_ACCESS, unlisted, _role(account), kms_key_policy=policy), (where, action)
            for via in _services(props):
                other = _key_request(action, logical_id, OUTSIDE, **{"kms:ViaService": via,
                                                                     "kms:GrantIsForAWSResource": True})
                assert not evaluate(FULL_ACCESS, other, _role(OUTSIDE), kms_key_policy=policy,
                                    resource_account=account), (where, action, via)


def test_a_key_serves_its_account_through_its_services(keys):
    """The other side: each listed service may use the key for the account (S3 only for the
    key's buckets: the aws:s3:arn encryption context)."""
    checked = 0
    for account, template, logical_id, props in keys:
        for statement in props["KeyPolicy"]["Statement"]:
            if not statement.get("Sid", "").startswith("ThisAccountThrough"):
                continue
            contexts = _as_list(statement["Condition"].get("ArnLike", {}).get("kms:EncryptionContext:aws:s3:arn", []))
            for via in _as_list(statement["Condition"]["StringEquals"]["kms:ViaService"]):
                context = {"kms:ViaService": via}
                if contexts == ["arn:aws:s3:::*"]:  # buckets named by CloudFormation: any of the account
                    context["kms:EncryptionContext:aws:s3:arn"] = "arn:aws:s3:::stack-bucket-1a2b3c"
                elif contexts:
                    bucket = next(c for c in contexts if not c.endswith("/*"))
                    context["kms:EncryptionContext:aws:s3:arn"] = bucket
                    elsewhere = {**context, "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::someone-elses-bucket"}
                    assert not evaluate(FULL_ACCESS, _key_request("kms:Decrypt", logical_id, account, **elsewhere),
                                        _role(account), kms_key_policy=props["KeyPolicy"]), (template, logical_id)
                for action in ("kms:Decrypt", "kms:GenerateDataKey"):
                    assert evaluate(FULL_ACCESS, _key_request(action, logical_id, account, **context), _role(account),
                                    kms_key_policy=props["KeyPolicy"]), (template, logical_id, via)
                checked += 1
    assert checked >= 10


# -- interface endpoints -------------------------------------------------------------------------------

def _interface(endpoints):
    return [e for e in endpoints if e[3].get("VpcEndpointType") == "Interface"]


def test_every_interface_endpoint_admits_only_the_organisation(endpoints, assembly):
    single = assembly.name.endswith("single")
    interface = _interface(endpoints)
    assert interface
    for account, template, logical_id, props in interface:
        policy = props.get("PolicyDocument")
        assert policy, f"{template} {logical_id}: no endpoint policy"
        assert len(json.dumps(policy)) < 20480
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            equals = statement["Condition"]["StringEquals"]
            assert equals == ({"aws:PrincipalAccount": [SINGLE_ACCOUNT]} if single else {"aws:PrincipalOrgID": ORG_ID}), \
                (template, logical_id, equals)


def test_an_interface_endpoint_refuses_credentials_of_another_organisation(endpoints, assembly):
    single = assembly.name.endswith("single")
    for account, template, logical_id, props in _interface(endpoints):
        policy = props["PolicyDocument"]
        action = _as_list(policy["Statement"][0]["Action"])[0].replace("*", "Get")
        resource = _as_list(policy["Statement"][0]["Resource"])[0]
        inside = {} if single else {"aws:PrincipalOrgID": ORG_ID}
        assert evaluate(FULL_ACCESS, Request(action, resource, inside), _role(account), endpoint_policy=policy)
        outside = {} if single else {"aws:PrincipalOrgID": "o-attacker0001"}
        assert not evaluate(FULL_ACCESS, Request(action, resource, outside), _role(OUTSIDE), endpoint_policy=policy), \
            (template, logical_id)


# -- the S3 gateway endpoint -------------------------------------------------------------------------------

def _gateway(endpoints, account: str) -> dict:
    [policy] = [p["PolicyDocument"] for a, _, _, p in endpoints
                if a == account and p.get("VpcEndpointType") == "Gateway"]
    return policy


def _s3(policy: dict, action: str, bucket: str, key: str, *, caller: str, bucket_account: str | None,
        org: str | None = ORG_ID) -> bool:
    context = {"aws:ResourceAccount": bucket_account} if bucket_account else {}
    if bucket_account and bucket_account in DEFAULT.account_ids and org == ORG_ID:
        context["aws:ResourceOrgID"] = ORG_ID
    if org:
        context["aws:PrincipalOrgID"] = org
    return bool(evaluate(FULL_ACCESS, Request(action, f"arn:aws:s3:::{bucket}/{key}", context), _role(caller),
                         endpoint_policy=policy))


RISK_DEV, RISK_PREPROD, GOVERNANCE = "222222222221", "222222222222", "111111111111"


def test_s3_endpoint_writes_only_to_its_own_accounts_buckets(default_assembly):
    """The issue's finding: any credentials of any organisation account could write to any
    organisation bucket through the endpoint. Now, in the risk team's dev VPC:"""
    policy = _gateway(_resources(default_assembly, "AWS::EC2::VPCEndpoint"), RISK_DEV)
    own = "fmops-risk-dev-data"
    assert _s3(policy, "s3:PutObject", own, "datasets/x.csv", caller=RISK_DEV, bucket_account=RISK_DEV)
    assert _s3(policy, "s3:GetObject", own, "datasets/x.csv", caller=RISK_DEV, bucket_account=RISK_DEV)
    # another organisation account's bucket, with this account's or that account's credentials
    for caller in (RISK_DEV, RISK_PREPROD, GOVERNANCE):
        for action in ("s3:PutObject", "s3:GetObject"):
            assert not _s3(policy, action, "fmops-risk-preprod-data", "datasets/x.csv", caller=caller,
                           bucket_account=RISK_PREPROD), (action, caller)
    # a bucket outside the organisation: the classic copy-out, with the attacker's own credentials
    for caller, org in ((RISK_DEV, ORG_ID), (OUTSIDE, "o-attacker0001")):
        assert not _s3(policy, "s3:PutObject", "exfil", "dump.csv", caller=caller, bucket_account=OUTSIDE, org=org)
    # own bucket, credentials from outside the organisation
    assert not _s3(policy, "s3:PutObject", own, "x", caller=OUTSIDE, bucket_account=RISK_DEV, org="o-attacker0001")


def test_s3_endpoint_admits_the_promotion_drop_zone_and_aws_owned_buckets(default_assembly):
    policy = _gateway(_resources(default_assembly, "AWS::EC2::VPCEndpoint"), RISK_DEV)
    target = "fmops-risk-preprod-promoted-models"
    assert _s3(policy, "s3:PutObject", target, f"incoming/{RISK_DEV}/model.tar.gz", caller=RISK_DEV,
               bucket_account=RISK_PREPROD)
    assert not _s3(policy, "s3:PutObject", target, f"incoming/{GOVERNANCE}/model.tar.gz", caller=RISK_DEV,
                   bucket_account=RISK_PREPROD)
    assert not _s3(policy, "s3:GetObject", target, f"incoming/{RISK_DEV}/model.tar.gz", caller=RISK_DEV,
                   bucket_account=RISK_PREPROD)
    assert not _s3(policy, "s3:PutObject", "exfil", f"incoming/{RISK_DEV}/dump", caller=RISK_DEV, bucket_account=OUTSIDE)
    # ECR image layers (an AWS account's bucket, reached through pre-signed URLs): read, never written
    layers = f"prod-{REGION}-starport-layer-bucket"
    assert _s3(policy, "s3:GetObject", layers, "sha256/abc", caller=RISK_DEV, bucket_account=None)
    assert not _s3(policy, "s3:PutObject", layers, "sha256/abc", caller=RISK_DEV, bucket_account=None)


def test_only_the_delivery_vpc_publishes_cdk_assets_to_other_accounts(default_assembly):
    endpoints = _resources(default_assembly, "AWS::EC2::VPCEndpoint")
    assets = f"cdk-hnb659fds-assets-{RISK_PREPROD}-{REGION}"
    governance = _gateway(endpoints, GOVERNANCE)
    assert _s3(governance, "s3:PutObject", assets, "abc.json", caller=RISK_PREPROD, bucket_account=RISK_PREPROD)
    assert not _s3(governance, "s3:PutObject", "fmops-risk-preprod-data", "x", caller=RISK_PREPROD,
                   bucket_account=RISK_PREPROD)
    assert not _s3(governance, "s3:PutObject", f"cdk-hnb659fds-assets-{OUTSIDE}-{REGION}", "x", caller=OUTSIDE,
                   bucket_account=OUTSIDE, org="o-attacker0001")
    assert not _s3(_gateway(endpoints, RISK_DEV), "s3:PutObject", assets, "abc.json", caller=RISK_PREPROD,
                   bucket_account=RISK_PREPROD)


def test_single_account_s3_endpoint_reaches_its_own_buckets_only(single_assembly):
    policy = _gateway(_resources(single_assembly, "AWS::EC2::VPCEndpoint"), SINGLE_ACCOUNT)
    assert _s3(policy, "s3:PutObject", "own", "x", caller=SINGLE_ACCOUNT, bucket_account=SINGLE_ACCOUNT, org=None)
    assert not _s3(policy, "s3:PutObject", "exfil", "x", caller=SINGLE_ACCOUNT, bucket_account=OUTSIDE, org=None)
    assert not _s3(policy, "s3:PutObject", "own", "x", caller=OUTSIDE, bucket_account=SINGLE_ACCOUNT, org=None)
