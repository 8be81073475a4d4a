"""The audit trail: CloudTrail trail, Object-Lock log archive and AWS Config, on the synthesized
templates of both shipped configs (issue 13)."""

from __future__ import annotations

from aws_cdk import aws_config

from fmops_constructs.audit import BEDROCK_DATA_EVENT_TYPES, MANAGED_RULES
from infra import naming
from infra.config import load_config
from infra.plan import build_plan
from tests.conftest import REPO, resources

# Managed rules that aws-cdk-lib 2.275 has no constant for, checked one by one in the AWS Config
# developer guide (identifier, resource type AWS::SageMaker::NotebookInstance / Domain / Model).
DOCUMENTED_WITHOUT_CDK_CONSTANT = {"SAGEMAKER_NOTEBOOK_INSTANCE_INSIDE_VPC", "SAGEMAKER_DOMAIN_IN_VPC",
                                   "SAGEMAKER_MODEL_IN_VPC"}


def _platforms(templates: dict[str, dict]) -> dict[str, dict]:
    return {name: t for name, t in templates.items() if name.endswith("-platform")}


def _one(template: dict, resource_type: str) -> tuple[str, dict]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"{resource_type}: {sorted(found)}"
    return next(iter(found.items()))


def _team_data_buckets(templates: dict[str, dict]) -> set[str]:
    return {bucket["Properties"]["BucketName"] for template in templates.values()
            for bucket in resources(template, "AWS::S3::Bucket").values()
            if isinstance(bucket["Properties"].get("BucketName"), str) and "-data-" in bucket["Properties"]["BucketName"]}


def _selectors(trail: dict) -> dict[str, list[dict]]:
    return {s["Name"]: s["FieldSelectors"] for s in trail["Properties"]["AdvancedEventSelectors"]}


def _check_trail(templates: dict[str, dict], archive_stack: str, *, organisation: bool) -> None:
    trails = {name: t for name, t in templates.items() if resources(t, "AWS::CloudTrail::Trail")}
    assert list(trails) == [archive_stack], "exactly one trail, in the archive account's platform stack"
    template = templates[archive_stack]
    _, trail = _one(template, "AWS::CloudTrail::Trail")
    props = trail["Properties"]
    assert props["IsOrganizationTrail"] is organisation
    assert props["EnableLogFileValidation"] is True and props["IsMultiRegionTrail"] is True
    assert props["IncludeGlobalServiceEvents"] is True and props["IsLogging"] is True
    archive_id = next(k for k, b in resources(template, "AWS::S3::Bucket").items()
                      if b["Properties"].get("ObjectLockEnabled"))
    assert props["S3BucketName"] == {"Ref": archive_id}
    key_id = props["KMSKeyId"]["Fn::GetAtt"][0]
    assert resources(template, "AWS::KMS::Key")[key_id]["Properties"]["EnableKeyRotation"] is True
    policy_id = next(k for k, p in resources(template, "AWS::S3::BucketPolicy").items()
                     if p["Properties"]["Bucket"] == {"Ref": archive_id})
    assert policy_id in trail["DependsOn"], "the trail waits for the archive's bucket policy"

    selectors = _selectors(trail)
    assert selectors["Management events"] == [{"Field": "eventCategory", "Equals": ["Management"]}]
    s3 = {f["Field"]: f for f in selectors["Team data buckets"]}
    assert s3["resources.type"]["Equals"] == ["AWS::S3::Object"]
    assert {arn.split(":::")[1].rstrip("/") for arn in s3["resources.ARN"]["StartsWith"]} == _team_data_buckets(templates)
    bedrock = {f["Equals"][0] for name, fields in selectors.items() if name.startswith("Bedrock")
               for f in fields if f["Field"] == "resources.type"}
    assert bedrock == set(BEDROCK_DATA_EVENT_TYPES)


def _check_archive(template: dict, *, accounts: list[str], lock_days: int) -> None:
    archive_id, archive = next((k, b) for k, b in resources(template, "AWS::S3::Bucket").items()
                               if b["Properties"].get("ObjectLockEnabled"))
    assert archive_id.startswith("LogArchiveBucket"), "stable logical ID of the stateful archive"
    assert archive["DeletionPolicy"] == "Retain" and archive["UpdateReplacePolicy"] == "Retain"
    props = archive["Properties"]
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": lock_days}
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms" and "Fn::GetAtt" in sse["KMSMasterKeyID"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    policy = next(p for p in resources(template, "AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == {"Ref": archive_id})
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert "aws:SourceArn" in statements["CloudTrailWrite"]["Condition"]["StringEquals"]
    assert statements["DenyOutsideVpcEndpoint"]["Effect"] == "Deny"
    config_write = statements["ConfigWrite"]
    assert config_write["Condition"]["StringEquals"]["aws:SourceAccount"] == accounts
    written = config_write["Resource"] if isinstance(config_write["Resource"], list) else [config_write["Resource"]]
    assert len(written) == len(accounts), "one prefix per account, no account-wide wildcard"
    for resource, account in zip(written, accounts):
        assert resource["Fn::Join"][1][-1] == f"/config/AWSLogs/{account}/Config/*"


def _check_recorders(templates: dict[str, dict], archive_bucket: str) -> None:
    platforms = _platforms(templates)
    assert platforms
    for name, template in platforms.items():
        recorder_id, recorder = _one(template, "AWS::Config::ConfigurationRecorder")
        assert recorder["Properties"]["RecordingGroup"] == {"AllSupported": True, "IncludeGlobalResourceTypes": True}
        _, channel = _one(template, "AWS::Config::DeliveryChannel")
        assert channel["Properties"]["S3BucketName"] == archive_bucket, name
        assert channel["Properties"]["S3KeyPrefix"] == "config"
        assert recorder_id in channel["DependsOn"]
        rules = resources(template, "AWS::Config::ConfigRule")
        identifiers = {r["Properties"]["Source"]["SourceIdentifier"] for r in rules.values()}
        assert identifiers == set(MANAGED_RULES), name
        assert all(recorder_id in r["DependsOn"] for r in rules.values()), "rules wait for the recorder"
        role = next(r for r in resources(template, "AWS::IAM::Role").values()
                    if r["Properties"].get("RoleName", "").endswith("-config-recorder"))
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "config.amazonaws.com"}


def test_organisation_trail_archive_and_recorders(default_templates):
    config = load_config(REPO / "config" / "default.yaml")
    governance = next(a for a in config.accounts if a.role == "governance")
    _check_trail(default_templates, f"fmops-{governance.name}-platform", organisation=True)
    _check_archive(default_templates[f"fmops-{governance.name}-platform"], accounts=config.account_ids,
                   lock_days=config.organisation.audit.retention_days)
    _check_recorders(default_templates, naming.log_archive_bucket_name("fmops", governance.id, config.organisation.region))


def test_workload_recorders_use_the_archive_key_by_alias_only(default_templates):
    for name, template in _platforms(default_templates).items():
        if name == "fmops-tooling-platform":
            continue
        policies = [s for p in resources(template, "AWS::IAM::Policy").values()
                    for s in p["Properties"]["PolicyDocument"]["Statement"]
                    if "kms:GenerateDataKey" in s["Action"] and "kms:ResourceAliases" in str(s)]
        assert len(policies) == 1, name
        statement = policies[0]
        assert statement["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == ["alias/fmops/log-archive"]
        assert statement["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"


def test_account_trail_in_single_account_mode(single_templates):
    config = load_config(REPO / "config" / "single-account.yaml")
    account = config.accounts[0]
    stack = f"{config.organisation.name}-{account.name}-platform"
    _check_trail(single_templates, stack, organisation=False)
    _check_archive(single_templates[stack], accounts=config.account_ids,
                   lock_days=config.organisation.audit.retention_days)
    _check_recorders(single_templates, naming.log_archive_bucket_name(config.organisation.name, account.id,
                                                                      config.organisation.region))


def test_switches_leave_out_the_trail_or_the_recorder():
    config = load_config(REPO / "config" / "default.yaml")
    without_trail = config.model_copy(update={"organisation": config.organisation.model_copy(update={
        "audit": config.organisation.audit.model_copy(update={"trail": False})})})
    plans = {a.name: a for a in build_plan(without_trail).accounts}
    assert plans["tooling"].hosts_archive and not plans["tooling"].audit.trail  # Config still delivers there
    neither = config.organisation.audit.model_copy(update={"trail": False, "config_recorder": False})
    plans = build_plan(config.model_copy(update={"organisation": config.organisation.model_copy(
        update={"audit": neither})})).accounts
    assert not any(a.hosts_archive for a in plans)


def test_managed_rule_identifiers_exist():
    known = {getattr(aws_config.ManagedRuleIdentifiers, n) for n in dir(aws_config.ManagedRuleIdentifiers)
             if n.isupper()}
    assert set(MANAGED_RULES) <= known | DOCUMENTED_WITHOUT_CDK_CONSTANT
    assert set(MANAGED_RULES) & DOCUMENTED_WITHOUT_CDK_CONSTANT == DOCUMENTED_WITHOUT_CDK_CONSTANT


# A control an acknowledgment may cite, and the resource types that show the app creates it.
CITED_CONTROLS = {
    "cloudtrail": ("AWS::CloudTrail::Trail",),
    "aws config": ("AWS::Config::ConfigurationRecorder",),
    "aws backup": ("AWS::Backup::BackupPlan",),
    "backup plan": ("AWS::Backup::BackupPlan",),
    "guardduty": ("AWS::GuardDuty::Detector",),
    "security hub": ("AWS::SecurityHub::Hub",),
    "macie": ("AWS::Macie::Session",),
}


def _cited_without_resource(reasons: set[str], templates: dict[str, dict]) -> list[tuple[str, str]]:
    types = {r["Type"] for t in templates.values() for r in t["Resources"].values()}
    return [(control, reason[:80]) for reason in reasons for control, needed in CITED_CONTROLS.items()
            if control in reason.lower() and not types & set(needed)]


def test_acknowledgments_cite_only_controls_the_app_creates(default_assembly, default_templates,
                                                            single_assembly, single_templates):
    from fmops_constructs.acknowledge import ACKNOWLEDGMENTS
    from infra.assembly import read_stacks
    from infra.tools.report import stack_acknowledgments

    registered = {a.reason for a in ACKNOWLEDGMENTS.values()}
    for assembly, templates in ((default_assembly, default_templates), (single_assembly, single_templates)):
        synthesized = {reason for stack in read_stacks(assembly) for entry in stack_acknowledgments(stack)
                       for reason in entry.values()}
        assert synthesized, "the app records its acknowledgments"
        assert not _cited_without_resource(registered | synthesized, templates)
    # The check bites: without the trail and recorders, the registered reasons cite missing controls.
    bare = {name: {"Resources": {k: r for k, r in t["Resources"].items()
                                 if not r["Type"].startswith(("AWS::CloudTrail::", "AWS::Config::"))}}
            for name, t in single_templates.items()}
    assert {c for c, _ in _cited_without_resource(registered, bare)} >= {"cloudtrail", "aws config"}
