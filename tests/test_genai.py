"""GenAI runtime on the synthesized templates: Bedrock endpoint policies, guardrails, governed
invoke permissions, invocation logging, SageMaker FM endpoints, autoscaling, alarms, dashboard."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_iam as iam

from fmops_constructs.acknowledge import acknowledge
from fmops_constructs.bedrock import BedrockModel
from infra.app.builder import build_app, new_app
from infra.config import load_config
from tests.conftest import REPO, resources

STAGES = ("dev", "preprod", "prod")
NOVA = ("amazon.nova-pro-v1:0", "amazon.nova-lite-v1:0")
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


def render(expr) -> str:
    """A template value as text: Ref X -> ${X}, GetAtt X.A -> ${X.A}, imports -> ${import:...}."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, dict) and "Ref" in expr:
        return "${" + expr["Ref"] + "}"
    if isinstance(expr, dict) and "Fn::GetAtt" in expr:
        return "${" + ".".join(expr["Fn::GetAtt"]) + "}"
    if isinstance(expr, dict) and "Fn::ImportValue" in expr:
        return "${import:" + expr["Fn::ImportValue"] + "}"
    if isinstance(expr, dict) and "Fn::Join" in expr:
        delimiter, parts = expr["Fn::Join"]
        return delimiter.join(render(part) for part in parts)
    raise AssertionError(f"unexpected template value {expr!r}")


def one(template: dict, resource_type: str) -> tuple[str, dict]:
    [(logical_id, resource)] = resources(template, resource_type).items()
    return logical_id, resource


def expected_model_arns(account: str) -> set[str]:
    arns = {f"arn:aws:bedrock:eu-west-1:{account}:inference-profile/eu.{model}" for model in NOVA}
    arns |= {f"arn:aws:bedrock:eu-*::foundation-model/{model}" for model in NOVA}
    return arns


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_genai_stacks_exist_where_teams_use_bedrock_or_host_models(default_templates, single_templates):
    for team in ("risk", "genai"):
        for stage in STAGES:
            assert {f"fmops-{team}-{stage}-{team}-genai", f"fmops-{team}-{stage}-{team}-endpoints"} <= set(default_templates)
    logging = sorted(name for name in default_templates if name.endswith("-bedrock-logging"))
    assert logging == [f"fmops-genai-{stage}-bedrock-logging" for stage in ("dev", "preprod", "prod")]
    assert {"fmops-sandbox-pilot-genai", "fmops-sandbox-bedrock-logging"} <= set(single_templates)


# -- Bedrock endpoints -----------------------------------------------------------------------

def _bedrock_endpoints(template: dict) -> dict[str, dict]:
    """Short name (bedrock-runtime...) -> endpoint, from com.amazonaws.<region>.<name>."""
    found = {}
    for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values():
        name = render(endpoint["Properties"]["ServiceName"]).split(".", 3)[-1]
        if name.startswith("bedrock"):
            found[name] = endpoint
    return found


def test_bedrock_endpoints_admit_only_the_organisation(default_templates):
    endpoints = _bedrock_endpoints(default_templates["fmops-genai-dev-platform"])
    assert set(endpoints) == {"bedrock", "bedrock-runtime", "bedrock-agent", "bedrock-agent-runtime"}
    for name, endpoint in endpoints.items():
        statements = endpoint["Properties"]["PolicyDocument"]["Statement"]
        assert statements, name
        for statement in statements:
            assert statement["Effect"] == "Allow" and statement["Principal"] == "*"
            organisation = load_config().organisation.aws_organization_id
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": organisation}}, name
    assert not _bedrock_endpoints(default_templates["fmops-risk-dev-platform"])


def test_runtime_endpoint_admits_only_the_teams_models_and_guardrails(default_templates):
    endpoint = _bedrock_endpoints(default_templates["fmops-genai-dev-platform"])["bedrock-runtime"]
    statements = {s["Sid"]: s for s in endpoint["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"OrganisationInvokesAllowedModels", "OrganisationAppliesOwnGuardrails"}
    invoke = statements["OrganisationInvokesAllowedModels"]
    assert invoke["Action"] == INVOKE
    # the models, and the account's application inference profiles, which route only to them
    assert set(invoke["Resource"]) == expected_model_arns("333333333331") | {
        "arn:aws:bedrock:eu-west-1:333333333331:application-inference-profile/*"}
    guardrails = statements["OrganisationAppliesOwnGuardrails"]
    assert guardrails["Action"] == "bedrock:ApplyGuardrail"
    assert guardrails["Resource"] == "arn:aws:bedrock:eu-west-1:333333333331:guardrail/*"


def test_control_plane_endpoints_allow_everything_only_to_the_organisation(default_templates):
    endpoint = _bedrock_endpoints(default_templates["fmops-genai-prod-platform"])["bedrock"]
    [statement] = endpoint["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"], statement["Sid"]) == ("*", "*", "OrganisationPrincipalsOnly")


# -- guardrail -------------------------------------------------------------------------------

def test_guardrail_filters_pii_topics_and_words_from_config(default_templates):
    template = default_templates["fmops-genai-dev-genai-genai"]
    guardrail_id, guardrail = one(template, "AWS::Bedrock::Guardrail")
    props = guardrail["Properties"]
    filters = {f["Type"]: (f["InputStrength"], f["OutputStrength"]) for f in props["ContentPolicyConfig"]["FiltersConfig"]}
    assert filters == {"HATE": ("HIGH", "HIGH"), "INSULTS": ("HIGH", "HIGH"), "SEXUAL": ("HIGH", "HIGH"),
                       "VIOLENCE": ("HIGH", "HIGH"), "MISCONDUCT": ("HIGH", "MEDIUM"), "PROMPT_ATTACK": ("HIGH", "NONE")}
    pii = props["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]
    assert {p["Action"] for p in pii} == {"ANONYMIZE"} and {"EMAIL", "AWS_SECRET_KEY"} <= {p["Type"] for p in pii}
    [topic] = props["TopicPolicyConfig"]["TopicsConfig"]
    assert (topic["Name"], topic["Type"], len(topic["Examples"])) == ("Investment advice", "DENY", 2)
    assert props["WordPolicyConfig"] == {"ManagedWordListsConfig": [{"Type": "PROFANITY"}],
                                         "WordsConfig": [{"Text": "internal-codename-atlas"}]}
    key_id, _ = one(template, "AWS::KMS::Key")
    assert props["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    _, version = one(template, "AWS::Bedrock::GuardrailVersion")
    assert version["Properties"]["GuardrailIdentifier"] == {"Fn::GetAtt": [guardrail_id, "GuardrailId"]}


def test_a_guardrail_change_publishes_a_new_version(single_templates, tmp_path):
    before = one(single_templates["fmops-sandbox-pilot-genai"], "AWS::Bedrock::GuardrailVersion")[1]
    text = (REPO / "config" / "single-account.yaml").read_text().replace(
        "      cross_region_inference: eu\n",
        "      cross_region_inference: eu\n      guardrail:\n        blocked_words: [secret-project]\n")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    app = new_app(outdir=str(tmp_path / "out"))
    build_app(load_config(path), app, checks=False)
    after = app.synth().get_stack_by_name("fmops-sandbox-pilot-genai").template
    version = one(after, "AWS::Bedrock::GuardrailVersion")[1]
    assert version["Properties"]["Description"] != before["Properties"]["Description"]


# -- governed invoke permissions -------------------------------------------------------------

@pytest.fixture(scope="module")
def granted_policy(tmp_path_factory) -> tuple[dict, dict]:
    """A role given the pilot team's model access, synthesized with every compliance check."""
    app = new_app(outdir=str(tmp_path_factory.mktemp("grant")))
    build_app(load_config(REPO / "config" / "single-account.yaml"), app, checks=True, control_tower=False)
    stack = app.node.find_child("fmops-sandbox-pilot-genai")
    role = iam.Role(stack, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    stack.model_access.grant_invoke(role)
    acknowledge(role, "scoped-inline-policy")
    template = app.synth().get_stack_by_name("fmops-sandbox-pilot-genai").template
    _, policy = one(template, "AWS::IAM::Policy")
    return template, policy["Properties"]["PolicyDocument"]


def test_invoke_needs_the_team_guardrail_on_the_allowed_models(granted_policy):
    """Allowed with the guardrail's published version: on the team's inference profile, and on the
    models only through it; denied otherwise, and on the models outside the profile."""
    template, document = granted_policy
    guardrail_id, _ = one(template, "AWS::Bedrock::Guardrail")
    version_id, _ = one(template, "AWS::Bedrock::GuardrailVersion")
    profile_id, _ = one(template, "AWS::Bedrock::ApplicationInferenceProfile")
    profile = {"Fn::GetAtt": [profile_id, "InferenceProfileArn"]}
    required = f"${{{guardrail_id}.GuardrailArn}}:${{{version_id}.Version}}"
    models = {"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-lite-v1:0",
              "arn:aws:bedrock:eu-*::foundation-model/amazon.nova-lite-v1:0"}
    invoke = [s for s in document["Statement"] if s["Action"] == INVOKE]
    allow_profile, allow_models = sorted((s for s in invoke if s["Effect"] == "Allow"), key=lambda s: "ArnEquals" in s["Condition"])
    unguarded, outside = sorted((s for s in invoke if s["Effect"] == "Deny"), key=lambda s: "ArnNotEquals" in s["Condition"])
    assert as_list(allow_profile["Resource"]) == [profile]
    assert set(as_list(allow_models["Resource"])) == models and set(as_list(outside["Resource"])) == models
    assert sorted(map(json.dumps, as_list(unguarded["Resource"]))) == sorted(map(json.dumps, [profile, *models]))
    for statement, operator in ((allow_profile, "StringEquals"), (allow_models, "StringEquals"), (unguarded, "StringNotEquals")):
        [(key, value)] = statement["Condition"][operator].items()
        assert (key, render(value)) == ("bedrock:GuardrailIdentifier", required)
    assert as_list(allow_models["Condition"]["ArnEquals"]["bedrock:InferenceProfileArn"]) == [profile]
    [(operator, values)] = outside["Condition"].items()
    assert operator == "ArnNotEquals" and as_list(values["bedrock:InferenceProfileArn"]) == [profile]
    apply = next(s for s in document["Statement"] if s["Action"] == "bedrock:ApplyGuardrail")
    assert apply["Resource"] == {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]}
    key_id, _ = one(template, "AWS::KMS::Key")
    assert next(s for s in document["Statement"] if s["Action"] == "kms:Decrypt")["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert len(document["Statement"]) == 6


def test_in_region_model_is_one_foundation_model_arn():
    stack = Stack(new_app(), "S", env=Environment(account="123456789012", region="eu-west-1"))
    assert BedrockModel("anthropic.claude-3-haiku-20240307-v1:0").arns(stack) == [
        "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]
    assert BedrockModel("amazon.nova-pro-v1:0", "eu").invoke_id == "eu.amazon.nova-pro-v1:0"


# -- model invocation logging ----------------------------------------------------------------

def test_invocation_logging_payload(default_templates):
    template = default_templates["fmops-genai-dev-bedrock-logging"]
    _, custom = one(template, "Custom::BedrockModelInvocationLogging")
    log_group = next(k for k, r in resources(template, "AWS::Logs::LogGroup").items()
                     if r["Properties"]["LogGroupName"] == "/fmops/bedrock/model-invocations")
    role = next(k for k in resources(template, "AWS::IAM::Role") if k.startswith("InvocationLoggingDeliveryRole"))
    bucket, _ = one(template, "AWS::S3::Bucket")
    put = {
        "action": "PutModelInvocationLoggingConfiguration",
        "service": "bedrock",
        "parameters": {"loggingConfig": {
            "cloudWatchConfig": {
                "logGroupName": f"${{{log_group}}}",
                "roleArn": f"${{{role}.Arn}}",
                "largeDataDeliveryS3Config": {"bucketName": f"${{{bucket}}}", "keyPrefix": "large-payloads"},
            },
            "s3Config": {"bucketName": f"${{{bucket}}}", "keyPrefix": "invocations"},
            "textDataDeliveryEnabled": True,
            "imageDataDeliveryEnabled": True,
            "embeddingDataDeliveryEnabled": True,
            "videoDataDeliveryEnabled": True,
        }},
        "physicalResourceId": {"id": "bedrock-model-invocation-logging"},
    }
    props = custom["Properties"]
    assert json.loads(render(props["Create"])) == put
    assert json.loads(render(props["Update"])) == put
    assert json.loads(props["Delete"]) == {"action": "DeleteModelInvocationLoggingConfiguration", "service": "bedrock"}
    assert props["InstallLatestAwsSdk"] is False


def test_bedrock_may_write_the_logs_and_nothing_else(default_templates):
    template = default_templates["fmops-genai-dev-bedrock-logging"]
    source = {"StringEquals": {"aws:SourceAccount": "333333333331"},
              "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:eu-west-1:333333333331:*"}}
    _, policy = one(template, "AWS::S3::BucketPolicy")
    [write] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "BedrockWritesInvocationLogs"]
    assert (write["Principal"], write["Action"], write["Condition"]) == (
        {"Service": "bedrock.amazonaws.com"}, "s3:PutObject", source)
    assert sorted(render(r).rsplit("/", 2)[-2] for r in write["Resource"]) == ["invocations", "large-payloads"]
    role = next(r for k, r in resources(template, "AWS::IAM::Role").items() if "DeliveryRole" in k)
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert (trust["Principal"], trust["Condition"]) == ({"Service": "bedrock.amazonaws.com"}, source)
    _, key = one(template, "AWS::KMS::Key")
    [kms_grant] = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                   if s.get("Sid") == "BedrockWritesEncryptedInvocationLogs"]
    assert (kms_grant["Action"], kms_grant["Condition"]) == ("kms:GenerateDataKey", source)
    for group in resources(template, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"] and group["DeletionPolicy"] == "Retain"


def test_logging_handler_runs_in_the_vpc_with_https_egress_only(default_templates):
    template = default_templates["fmops-genai-dev-bedrock-logging"]
    _, function = one(template, "AWS::Lambda::Function")
    group_id, group = one(template, "AWS::EC2::SecurityGroup")
    vpc = function["Properties"]["VpcConfig"]
    assert vpc["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}] and len(vpc["SubnetIds"]) == 2
    [egress] = group["Properties"]["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert group["Metadata"]["fmops:internet-free-exempt"]["rules"] == ["IF-SG-EGRESS-PUBLIC"]


# -- SageMaker FM endpoints ------------------------------------------------------------------

def _endpoint_parts(template: dict) -> dict[str, tuple[str, dict]]:
    return {t.rsplit("::", 1)[1]: one(template, t) for t in (
        "AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint",
        "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::EC2::SecurityGroup")}


def _export(templates: dict, team: str, stage: str, logical_id: str, attribute: str = "") -> str:
    """How the endpoints stack renders a reference to a resource of the team's GenAI stack."""
    kind = f"FnGetAtt{logical_id}{attribute}" if attribute else f"Ref{logical_id}"
    return f"${{import:fmops-{team}-{stage}-{team}-genai:ExportsOutput{kind}"


def _bucket(template: dict, prefix: str) -> str:
    return next(k for k in resources(template, "AWS::S3::Bucket") if k.startswith(prefix))


@pytest.mark.parametrize(("team", "stage", "subnets"), [("risk", "dev", 2), ("genai", "prod", 3)])
def test_model_is_isolated_in_the_vpc_with_staged_weights(default_templates, team, stage, subnets):
    template = default_templates[f"fmops-{team}-{stage}-{team}-endpoints"]
    genai = default_templates[f"fmops-{team}-{stage}-{team}-genai"]
    parts = _endpoint_parts(template)
    model = parts["Model"][1]["Properties"]
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [parts["SecurityGroup"][0], "GroupId"]}]
    assert len(model["VpcConfig"]["Subnets"]) == subnets
    assert all("isolatedSubnet" in s["Fn::ImportValue"] for s in model["VpcConfig"]["Subnets"])
    container = model["PrimaryContainer"]
    assert container["Image"].startswith("111111111111.dkr.ecr.eu-west-1.amazonaws.com/fmops/")
    assert container["Environment"]["HF_MODEL_ID"] == "/opt/ml/model" and container["Environment"]["HF_HUB_OFFLINE"] == "1"
    source = container["ModelDataSource"]["S3DataSource"]
    assert render(source["S3Uri"]).startswith("s3://" + _export(default_templates, team, stage, _bucket(genai, "ModelArtifacts")))
    assert render(source["S3Uri"]).endswith("/")
    assert (source["S3DataType"], source["CompressionType"]) == ("S3Prefix", "None")
    [egress] = parts["SecurityGroup"][1]["Properties"]["SecurityGroupEgress"]
    assert (egress["FromPort"], egress["ToPort"]) == (443, 443)
    assert "SecurityGroupIngress" not in parts["SecurityGroup"][1]["Properties"]


def test_execution_role_reaches_weights_and_capture_through_bucket_policies(default_templates):
    endpoints = default_templates["fmops-risk-dev-risk-endpoints"]
    genai = default_templates["fmops-risk-dev-risk-genai"]
    [role] = [r for r in resources(endpoints, "AWS::IAM::Role").values()
              if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}]
    assert role["Properties"]["RoleName"] == "fmops-risk-flan-t5-exec"
    assert role["Properties"]["PermissionsBoundary"] == "arn:aws:iam::222222222221:policy/fmops-risk-boundary"
    role_arn = "arn:aws:iam::222222222221:role/fmops-risk-flan-t5-exec"
    statements = {}
    for policy in resources(genai, "AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            statements[statement.get("Sid")] = (policy["Properties"]["Bucket"], statement)
    weights_bucket, weights = statements["EndpointsReadWeights"]
    assert weights_bucket == {"Ref": _bucket(genai, "ModelArtifacts")}
    assert weights["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert weights["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [role_arn]}}
    capture_bucket, capture = statements["CaptureOfFmopsRiskFlanT5"]
    assert capture_bucket == {"Ref": _bucket(genai, "DataCapture")}
    assert (capture["Action"], capture["Condition"]) == ("s3:PutObject", {"ArnEquals": {"aws:PrincipalArn": role_arn}})
    assert render(capture["Resource"]).endswith("/fmops-risk-flan-t5/*")
    document = json.dumps(resources(endpoints, "AWS::IAM::Policy"))
    assert '"s3:' not in document  # no S3 permission in the role's own policy


def test_container_logs_go_to_retained_encrypted_groups_of_the_genai_stack(default_templates):
    genai = default_templates["fmops-genai-dev-genai-genai"]
    groups = {r["Properties"]["LogGroupName"]: (k, r) for k, r in resources(genai, "AWS::Logs::LogGroup").items()}
    assert set(groups) == {"/aws/sagemaker/Endpoints/fmops-genai-falcon-7b",
                           "/aws/sagemaker/InferenceComponents/fmops-genai-falcon-7b-model"}
    for _, group in groups.values():
        assert group["DeletionPolicy"] == "Retain" and group["Properties"]["RetentionInDays"] == 365
        assert "KmsKeyId" in group["Properties"]
    endpoints = default_templates["fmops-genai-dev-genai-endpoints"]
    assert not resources(endpoints, "AWS::Logs::LogGroup")
    [policy] = resources(endpoints, "AWS::IAM::Policy").values()
    written = [render(r) for s in policy["Properties"]["PolicyDocument"]["Statement"]
               if "logs:PutLogEvents" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    expected = [_export(default_templates, "genai", "dev", logical_id, "Arn") for logical_id, _ in groups.values()]
    assert len(written) == 2 and all(any(w.startswith(e) for w in written) for e in expected), written


def test_endpoint_config_is_encrypted_and_captures_data(default_templates):
    template = default_templates["fmops-risk-prod-risk-endpoints"]
    genai = default_templates["fmops-risk-prod-risk-genai"]
    parts = _endpoint_parts(template)
    config = parts["EndpointConfig"][1]["Properties"]
    key = _export(default_templates, "risk", "prod", one(genai, "AWS::KMS::Key")[0], "Arn")
    assert render(config["KmsKeyId"]).startswith(key)
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and render(capture["KmsKeyId"]).startswith(key)
    assert capture["InitialSamplingPercentage"] == 20
    destination = render(capture["DestinationS3Uri"])
    assert destination.startswith("s3://" + _export(default_templates, "risk", "prod", _bucket(genai, "DataCapture")))
    assert destination.endswith("}/fmops-risk-flan-t5")
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    [variant] = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.g5.xlarge", 1)
    assert parts["Endpoint"][1]["Properties"]["EndpointName"] == "fmops-risk-flan-t5"


def test_endpoint_autoscales_on_invocations_per_instance(default_templates):
    template = default_templates["fmops-risk-dev-risk-endpoints"]
    target_id, target = _endpoint_parts(template)["ScalableTarget"]
    assert {k: target["Properties"][k] for k in ("ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity")} == {
        "ResourceId": "endpoint/fmops-risk-flan-t5/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount", "MinCapacity": 1, "MaxCapacity": 2}
    [policy] = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    assert tracking["TargetValue"] == 30


def test_scale_to_zero_uses_an_inference_component(default_templates):
    template = default_templates["fmops-genai-dev-genai-endpoints"]
    parts = _endpoint_parts(template)
    config = parts["EndpointConfig"][1]["Properties"]
    [variant] = config["ProductionVariants"]
    assert "ModelName" not in variant
    assert variant["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}
    assert config["EnableNetworkIsolation"] is True and "VpcConfig" in config and "ExecutionRoleArn" in config
    _, component = one(template, "AWS::SageMaker::InferenceComponent")
    spec = component["Properties"]["Specification"]
    assert spec["ModelName"] == {"Fn::GetAtt": [parts["Model"][0], "ModelName"]}
    assert spec["ComputeResourceRequirements"]["NumberOfAcceleratorDevicesRequired"] == 1
    target = parts["ScalableTarget"][1]["Properties"]
    assert (target["ResourceId"], target["ScalableDimension"], target["MinCapacity"]) == (
        "inference-component/fmops-genai-falcon-7b-model", "sagemaker:inference-component:DesiredCopyCount", 0)
    policies = {p["Properties"]["PolicyType"]: (k, p) for k, p in
                resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items()}
    tracking = policies["TargetTrackingScaling"][1]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerInferenceComponentInvocationsPerCopy"
    step_id, step = policies["StepScaling"]
    assert step["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    [wake] = [a for a in resources(template, "AWS::CloudWatch::Alarm").values()
              if a["Properties"]["MetricName"] == "NoCapacityInvocationFailures"]
    actions = wake["Properties"]["AlarmActions"]
    assert actions[0] == {"Ref": step_id} and len(actions) == 2  # scale out, and tell the team (test_alarms.py)


def test_alarms_on_latency_errors_and_invocations_notify_the_team(default_templates):
    template = default_templates["fmops-risk-dev-risk-endpoints"]
    team = default_templates["fmops-risk-dev-risk"]
    [(topic_id, topic)] = [(k, t) for k, t in resources(team, "AWS::SNS::Topic").items()
                           if t["Properties"]["TopicName"] == "fmops-risk-alarms"]
    assert "KmsMasterKeyId" in topic["Properties"]
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()}
    assert set(alarms) == {"ModelLatency", "Invocation5XXErrors", "Invocations"}
    for alarm in alarms.values():
        [action] = alarm["AlarmActions"]
        assert render(action).startswith(f"${{import:fmops-risk-dev-risk:ExportsOutputRef{topic_id}")
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
            "EndpointName": "fmops-risk-flan-t5", "VariantName": "AllTraffic"}
    assert (alarms["ModelLatency"]["ExtendedStatistic"], alarms["ModelLatency"]["Threshold"]) == ("p90", 30_000_000)
    assert alarms["Invocations"]["Threshold"] == 30 * 2 * 5


def test_dashboard_shows_models_guardrail_and_endpoints(default_templates):
    template = default_templates["fmops-genai-dev-genai-genai"]
    _, dashboard = one(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "fmops-genai-genai"
    guardrail_id, _ = one(template, "AWS::Bedrock::Guardrail")
    body = json.loads(render(dashboard["Properties"]["DashboardBody"]).replace("${AWS::Region}", "eu-west-1"))
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"]]
    for model in NOVA:
        for name in ("Invocations", "InvocationLatency", "InvocationThrottles"):
            assert ["AWS/Bedrock", name, "ModelId", f"eu.{model}", {"label": f"eu.{model}",
                    "stat": "p90" if name == "InvocationLatency" else "Sum"}] in metrics
    searches = [m[0]["expression"] for m in metrics if isinstance(m[0], dict)]
    assert any("InvocationsIntervened" in s and f"${{{guardrail_id}.GuardrailId}}" in s for s in searches)
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert {"fmops-genai-falcon-7b: invocations", "fmops-genai-falcon-7b: 5XX errors"} <= set(titles)


def test_stateful_genai_resources_are_retained(default_templates):
    for name in ("fmops-genai-dev-genai-genai", "fmops-genai-dev-genai-endpoints", "fmops-genai-dev-bedrock-logging"):
        template = default_templates[name]
        for kind in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup"):
            for logical_id, resource in resources(template, kind).items():
                assert resource.get("DeletionPolicy") == "Retain", (name, logical_id)


def test_adding_an_endpoint_keeps_every_logical_id(single_templates, tmp_path):
    text = (REPO / "config" / "single-account.yaml").read_text().replace(
        "      cross_region_inference: eu\n",
        "      cross_region_inference: eu\n      endpoints:\n        - name: flan-t5\n          model: google-flan-t5-xxl\n"
        "          weights: flan-t5-xxl/base/\n"
        '          image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fmops/tgi-inference:2.4.0"\n')
    path = tmp_path / "config.yaml"
    path.write_text(text)
    app = new_app(outdir=str(tmp_path / "out"))
    build_app(load_config(path), app, checks=False)
    assembly = app.synth()
    after = assembly.get_stack_by_name("fmops-sandbox-pilot-genai").template["Resources"]
    before = single_templates["fmops-sandbox-pilot-genai"]["Resources"]
    assert set(before) <= set(after)
    endpoints = assembly.get_stack_by_name("fmops-sandbox-pilot-endpoints").template["Resources"]
    assert any(r["Type"] == "AWS::SageMaker::Endpoint" for r in endpoints.values())
