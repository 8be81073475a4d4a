"""The templates' seed code: pure functions tested directly, AWS requests checked against botocore's
service models (Stubber and ParamValidator), the evaluation output read by `fmops select-fm`."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
from collections.abc import Iterator
from types import ModuleType

import boto3
import botocore.session
import pytest
from botocore.stub import ANY, Stubber
from botocore.validate import ParamValidator

from infra.tools.fm_select import ScoresFile
from templates.registry import BY_ID

REGION = "eu-west-1"


@contextlib.contextmanager
def seed(template_id: str) -> Iterator[callable]:
    """Import modules of a template's seed folder (they import each other by plain name) without
    leaving them in sys.modules, where another template's module of the same name could clash."""
    folder = str(BY_ID[template_id].seed)
    before = set(sys.modules)
    sys.path.insert(0, folder)
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield importlib.import_module
    finally:
        sys.dont_write_bytecode = writes_bytecode
        sys.path.remove(folder)
        for name in set(sys.modules) - before:
            if getattr(sys.modules[name], "__file__", "") and sys.modules[name].__file__.startswith(folder):
                del sys.modules[name]


def _load(template_id: str, module: str) -> ModuleType:
    with seed(template_id) as load:
        return load(module)


def _client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def _valid(service: str, operation: str, request: dict) -> None:
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


# -- genai-app ----------------------------------------------------------------------------------

PROMPT = {"name": "answer", "id": "PROMPT12345", "version": "1", "defaultVariant": "default", "variants": [{
    "name": "default", "modelId": "eu.amazon.nova-pro-v1:0", "templateType": "TEXT",
    "templateConfiguration": {"text": {"text": "Context: {{context}}\nQuestion: {{question}}"}},
    "inferenceConfiguration": {"text": {"maxTokens": 800, "temperature": 0.2, "topP": 0.9}}}],
    "arn": "arn:aws:bedrock:eu-west-1:333333333331:prompt/PROMPT12345",
    "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}
GUARDRAIL = "arn:aws:bedrock:eu-west-1:333333333331:guardrail/gr0team1"
PROFILE = "arn:aws:bedrock:eu-west-1:333333333331:application-inference-profile/abc123profile"
VERSION_PARAMETER = "/fmops/genai/genai/guardrail-version"
SETTINGS = {"PROMPTS": json.dumps({"answer": {"arn": PROMPT["arn"], "version": "1"}}), "GUARDRAIL_ARN": GUARDRAIL,
            "GUARDRAIL_VERSION_PARAMETER": VERSION_PARAMETER, "MODEL_ID": PROFILE,
            "STORE_BUCKET": "fmops-genai-data-333333333331-eu-west-1", "STORE_PREFIX": "projects/bot/app/"}


@pytest.fixture
def app():
    handler = _load("genai-app", "handler")
    agent, runtime, s3 = _client("bedrock-agent"), _client("bedrock-runtime"), _client("s3")
    stubs = [Stubber(c) for c in (agent, runtime, s3)]
    for stub in stubs:
        stub.activate()
    yield handler, handler.App(agent=agent, runtime=runtime, s3=s3, settings=SETTINGS, guardrail_version="2"), stubs
    for stub in stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_generate_reads_the_prompt_version_and_calls_the_model_through_the_guardrail(app):
    handler, application, (agent, runtime, s3) = app
    agent.add_response("get_prompt", PROMPT, {"promptIdentifier": PROMPT["arn"], "promptVersion": "1"})
    runtime.add_response("converse", {
        "output": {"message": {"role": "assistant", "content": [{"text": "Open Orders."}]}}, "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 3, "totalTokens": 13}, "metrics": {"latencyMs": 120}}, {
        "modelId": PROFILE,
        "messages": [{"role": "user", "content": [{"text": "Context: docs\nQuestion: refund?"}]}],
        "inferenceConfig": {"maxTokens": 800, "temperature": 0.2, "topP": 0.9},
        "guardrailConfig": {"guardrailIdentifier": GUARDRAIL, "guardrailVersion": "2",
                            "trace": "disabled"}})
    s3.add_response("put_object", {}, {"Bucket": SETTINGS["STORE_BUCKET"], "Key": ANY, "Body": ANY,
                                       "ContentType": "application/json"})
    response = application.route({"httpMethod": "POST", "resource": "/generate", "body": json.dumps(
        {"prompt": "answer", "variables": {"context": "docs", "question": "refund?"}})})
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and body["output"] == "Open Orders." and body["prompt"] == "answer:1"


def test_feedback_is_validated_and_stored_by_day(app):
    handler, application, (_, _, s3) = app
    s3.add_response("put_object", {}, {"Bucket": SETTINGS["STORE_BUCKET"], "Key": ANY, "Body": ANY,
                                       "ContentType": "application/json"})
    generation = "8d3f3b9e-2c43-4c55-9a43-0d4f5f2b1c11"
    ok = application.route({"httpMethod": "POST", "resource": "/feedback",
                            "body": json.dumps({"generationId": generation, "rating": 4, "comment": "good"})})
    assert ok["statusCode"] == 202
    assert json.loads(ok["body"])["stored"].startswith("feedback/") and generation in ok["body"]
    for bad in ({"generationId": "x", "rating": 3}, {"generationId": generation, "rating": 6},
                {"generationId": generation, "rating": True}, {"generationId": generation, "rating": 2, "comment": 5}):
        assert application.route({"httpMethod": "POST", "resource": "/feedback",
                                  "body": json.dumps(bad)})["statusCode"] == 400


def test_prompt_rendering_refuses_missing_and_unknown_variables():
    handler = _load("genai-app", "handler")
    assert handler.render("Q: {{ question }}", {"question": "why"}) == "Q: why"
    with pytest.raises(handler.BadRequest, match="missing variables: question"):
        handler.render("Q: {{question}}", {})
    with pytest.raises(handler.BadRequest, match="unknown variables: extra"):
        handler.render("Q: {{question}}", {"question": "a", "extra": "b"})


@pytest.mark.parametrize("module", [("genai-app", "handler"), ("fm-evaluation", "judge")])
def test_the_guardrail_version_comes_from_the_genai_stacks_parameter_only(module):
    """The version is the SSM parameter's (what the project's policy pins), never the latest
    one Bedrock lists (a version published outside the stack) and never DRAFT."""
    published = _load(*module).published_guardrail_version
    ssm = _client("ssm")
    parameter = {"Name": VERSION_PARAMETER, "Type": "String", "Version": 1, "ARN": "arn:aws:ssm:eu-west-1:333333333331:"
                 f"parameter{VERSION_PARAMETER}", "DataType": "text"}
    with Stubber(ssm) as stub:
        stub.add_response("get_parameter", {"Parameter": {**parameter, "Value": "7"}}, {"Name": VERSION_PARAMETER})
        stub.add_response("get_parameter", {"Parameter": {**parameter, "Value": "DRAFT"}}, {"Name": VERSION_PARAMETER})
        assert published(ssm, VERSION_PARAMETER) == "7"
        with pytest.raises(RuntimeError, match="not a published guardrail version"):
            published(ssm, VERSION_PARAMETER)
        stub.assert_no_pending_responses()


def test_handler_reads_the_version_once_per_container(monkeypatch):
    """Cold start: the handler reads the parameter and keeps the value for the container's life;
    it never lists the guardrail's versions."""
    import moto

    handler = _load("genai-app", "handler")
    for key, value in {**SETTINGS, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "_APP", None)
    with moto.mock_aws():
        ssm = _client("ssm")
        ssm.put_parameter(Name=VERSION_PARAMETER, Value="3", Type="String")
        assert handler.handler({"httpMethod": "GET", "resource": "/generate"}, None)["statusCode"] == 404
        ssm.put_parameter(Name=VERSION_PARAMETER, Value="4", Type="String", Overwrite=True)
        handler.handler({"httpMethod": "GET", "resource": "/generate"}, None)
        assert handler._APP.guardrail["guardrailVersion"] == "3"
        assert handler._APP.model_id == PROFILE


def test_unknown_route_and_prompt():
    handler = _load("genai-app", "handler")
    application = handler.App(agent=None, runtime=None, s3=None, settings=SETTINGS, guardrail_version="1")
    assert application.route({"httpMethod": "GET", "resource": "/generate"})["statusCode"] == 404
    response = application.route({"httpMethod": "POST", "resource": "/generate", "body": '{"prompt": "poem"}'})
    assert response["statusCode"] == 400 and "known: answer" in response["body"]


# -- fm-finetuning ------------------------------------------------------------------------------

def test_prepare_keeps_valid_unique_records_and_splits_them(tmp_path):
    prepare = _load("fm-finetuning", "prepare")
    lines = [json.dumps({"instruction": f"Summarize {i}", "output": f"Summary {i}"}) for i in range(20)]
    lines += [json.dumps({"instruction": "Summarize 0", "output": "again"}), "not json", json.dumps({"output": "x"}),
              json.dumps({"instruction": "", "output": "y"})]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("\n".join(lines))
    prepare.main(["--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--validation-share", "0.2"])
    train = (tmp_path / "out" / "train" / "train.jsonl").read_text().splitlines()
    validation = (tmp_path / "out" / "validation" / "validation.jsonl").read_text().splitlines()
    assert (len(train), len(validation)) == (16, 4)
    assert not {json.loads(x)["instruction"] for x in train} & {json.loads(x)["instruction"] for x in validation}
    with pytest.raises(ValueError, match="at least 2"):
        prepare.split([{"instruction": "a"}], 0.1, 1)


def test_rouge_l_and_the_evaluation_report():
    metrics = _load("fm-finetuning", "text_metrics")
    assert metrics.rouge_l("the cat sat", "the cat sat") == 1.0
    assert metrics.rouge_l("", "x") == 0.0
    assert metrics.rouge_l("a b c d", "a c") == pytest.approx(2 * (2 / 4) * 1 / ((2 / 4) + 1))
    with seed("fm-finetuning") as load:
        report = load("evaluate").report(["the cat sat", "dogs bark"], ["the cat sat", "cats meow"])
    assert report["metrics"]["rouge_l"]["value"] == 0.5 and report["samples"] == 2


def test_training_settings_and_prompt_format():
    with seed("fm-finetuning") as load:
        train = load("train")
        prompting = load("prompting")
    assert train.lora_settings(8, 16, 0.05, seq2seq=True)["task_type"] == "SEQ_2_SEQ_LM"
    with pytest.raises(ValueError):
        train.lora_settings(0, 16, 0.05, seq2seq=False)
    assert prompting.prompt({"instruction": "Do", "input": "this"}).endswith("### Response:\n")
    assert "### Input" not in prompting.prompt({"instruction": "Do", "input": ""})


# -- fm-evaluation ------------------------------------------------------------------------------

def test_results_are_validated_with_the_field_that_is_wrong():
    with seed("fm-evaluation") as load:
        results = load("results")
        record = load("record_test")
    good = {"model": "m", "prompt_id": "p", "prompt": "q", "output": "a", "human_score": 4, "latency_ms": 300}
    assert results.validate(good)["human_score"] == 4.0
    for bad, field in (({**good, "human_score": 7}, "human_score"), ({**good, "model": ""}, "model"),
                       ({**good, "colour": "red"}, "colour"), ({**good, "latency_ms": -1}, "latency_ms")):
        with pytest.raises(results.InvalidResult, match=field):
            results.validate(bad)
    with pytest.raises(results.InvalidResult, match="line 2"):
        record.parse(json.dumps(good) + "\n{bad json}\n")
    assert record.parse(BY_ID["fm-evaluation"].seed.joinpath("example-results.jsonl").read_text())


def test_judge_calls_converse_through_the_guardrail_and_parses_its_verdict():
    judge_module = _load("fm-evaluation", "judge")
    runtime = _client("bedrock-runtime")
    with Stubber(runtime) as stub:
        stub.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"text": 'Here: {"score": 4, "reason": "ok"}'}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1}}, {
            "modelId": "eu.amazon.nova-pro-v1:0", "system": ANY, "messages": ANY,
            "inferenceConfig": {"maxTokens": 200, "temperature": 0},
            "guardrailConfig": {"guardrailIdentifier": "gr", "guardrailVersion": "1"}})
        judge = judge_module.Judge(runtime, "eu.amazon.nova-pro-v1:0", "gr", "1")
        assert judge.score({"prompt": "q", "output": "a"}) == (4.0, "ok")
    assert judge_module.parse_verdict('score is "score": 3') == (3.0, "")
    with pytest.raises(ValueError):
        judge_module.parse_verdict("no idea")


def test_scores_are_written_in_the_select_fm_format(tmp_path):
    evaluate = _load("fm-evaluation", "evaluate_candidates")
    records = [
        {"model": "amazon-nova-pro", "prompt_id": "1", "prompt": "q", "output": "a", "human_score": 5.0,
         "latency_ms": 800.0},
        {"model": "amazon-nova-pro", "prompt_id": "2", "prompt": "q", "output": "a", "human_score": 4.0,
         "latency_ms": 900.0},
        {"model": "amazon-nova-lite", "prompt_id": "1", "prompt": "q", "output": "a", "latency_ms": 300.0},
    ]
    scores = evaluate.aggregate(records, [4.0, 3.0, 2.0], 0.5, "test campaign")
    parsed = ScoresFile.model_validate(scores)  # what `fmops select-fm --scores` reads
    assert parsed.models["amazon-nova-pro"].score == 4.0  # 0.5 * 4.5 (human) + 0.5 * 3.5 (judge)
    assert parsed.models["amazon-nova-pro"].speed == 4 and parsed.models["amazon-nova-lite"].speed == 5
    assert "LLM judge 2.00/5 (n=1)" in parsed.models["amazon-nova-lite"].feedback
    (tmp_path / "scores.json").write_text(json.dumps(scores))
    from infra.cli import main as fmops

    assert fmops(["select-fm", "--scores", str(tmp_path / "scores.json"), "--priorities", "precision", "--json"]) == 0


# -- classical-ml -------------------------------------------------------------------------------

def test_preprocess_encodes_labels_and_fills_missing_values(tmp_path):
    preprocess = _load("classical-ml", "preprocess")
    (tmp_path / "in").mkdir()
    rows = ["age,city,income,churned"] + [f"{20 + i},x,{'' if i == 3 else 1000 * i},{'yes' if i % 2 else 'no'}"
                                         for i in range(20)]
    (tmp_path / "in" / "data.csv").write_text("\n".join(rows))
    preprocess.main(["--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--target", "churned"])
    train = (tmp_path / "out" / "train" / "train.csv").read_text().splitlines()
    assert len(train) == 14 and all(line.split(",")[0] in ("0.0", "1.0") for line in train)
    assert all(len(line.split(",")) == 3 for line in train)  # label, age, income (city is not numeric)
    with pytest.raises(ValueError, match="exactly two values"):
        preprocess.encode([{"y": "a"}, {"y": "b"}, {"y": "c"}], "y", [])


def test_auc_and_accuracy():
    metrics = _load("classical-ml", "metrics")
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert metrics.roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert metrics.accuracy([0, 1, 1], [0.2, 0.7, 0.4]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="both classes"):
        metrics.roc_auc([1, 1], [0.2, 0.3])
    with seed("classical-ml") as load:
        assert load("evaluate").report([0, 1], [0.1, 0.9])["metrics"]["auc"]["value"] == 1.0


# -- fm-hosting and data-labeling ---------------------------------------------------------------

def test_smoke_test_invokes_the_endpoint_with_tgi_payloads():
    smoke = _load("fm-hosting", "smoke_test")
    client = _client("sagemaker-runtime")
    with Stubber(client) as stub:
        stub.add_response("invoke_endpoint", {"Body": io.BytesIO(b'[{"generated_text": "Bonjour"}]'),
                                              "ContentType": "application/json"},
                          {"EndpointName": "genai-bot", "ContentType": "application/json", "Body": ANY})
        answers, latencies = smoke.run(client, "genai-bot", ["Translate to French: good morning"], 16)
    assert answers == ["Bonjour"] and len(latencies) == 1
    with pytest.raises(ValueError, match="unexpected response"):
        smoke.generated_text(b'{"error": "overloaded"}')


def test_labeling_job_request_is_a_valid_create_labeling_job_call():
    labeling = _load("data-labeling", "labeling_job")
    workteam = "arn:aws:sagemaker:eu-west-1:333333333331:workteam/private-crowd/genai-answers"
    request = labeling.labeling_job_request(
        name=labeling.default_job_name(workteam), bucket="fmops-genai-data-333333333331-eu-west-1", project="answers",
        workteam_arn=workteam, role_arn="arn:aws:iam::333333333331:role/fmops/projects/genai/labeling",
        ui_template_uri="s3://fmops-genai-data-333333333331-eu-west-1/labeling/answers/classify.liquid.html",
        pre_lambda="arn:aws:lambda:eu-west-1:111122223333:function:PRE-TextMultiClass",
        consolidation_lambda="arn:aws:lambda:eu-west-1:111122223333:function:ACS-TextMultiClass")
    _valid("sagemaker", "CreateLabelingJob", request)
    assert request["LabelingJobName"] == "genai-answers-labels"
    lines = labeling.manifest_lines("b", ["labeling/p/input/2.txt", "labeling/p/input/1.txt", "labeling/p/input/x.json"])
    assert lines == ['{"source-ref": "s3://b/labeling/p/input/1.txt"}', '{"source-ref": "s3://b/labeling/p/input/2.txt"}']
    assert json.loads(BY_ID["data-labeling"].seed.joinpath("labels.json").read_text())["labels"]


def test_published_seed_bundles_hold_only_the_seed_files(default_assembly):
    """Seed folders are staged as assets without bytecode caches, so bundles are reproducible."""
    staged = [p for p in default_assembly.glob("asset.*") if p.is_dir()]
    seeds = {tuple(sorted(f.relative_to(e.seed).as_posix() for f in e.seed.rglob("*") if f.is_file()
                          and "__pycache__" not in f.parts)) for e in BY_ID.values()}
    bundles = [tuple(sorted(f.relative_to(p).as_posix() for f in p.rglob("*") if f.is_file())) for p in staged]
    published = [b for b in bundles if b in seeds]
    assert len(set(published)) == len(seeds)
    assert not any("__pycache__" in name for bundle in bundles for name in bundle)
