"""The explicit list of self-service project templates.

Each entry names one folder of ``templates/`` (product stack module, ``seed/`` code, README)
and is published as one versioned Service Catalog product. Bump ``version`` whenever the
template or its seed code changes: it names the product's provisioning artifact.

An entry says what its template needs, in the app's words as plain strings: the team features
(``required_features``), the stages whose accounts offer it (``stages``) and whether it calls a
Bedrock model. The app decides which team gets which product from that (its catalog stack's
``offered_templates``); this package imports nothing of the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fmops_constructs.product import ProjectProductStack
from fmops_constructs.sagemaker_images import AwsImage
from templates.classical_ml import product as classical_ml
from templates.classical_ml.product import ClassicalMlProduct
from templates.data_labeling.product import DataLabelingProduct
from templates.fm_evaluation import product as fm_evaluation
from templates.fm_evaluation.product import FmEvaluationProduct
from templates.fm_finetuning import product as fm_finetuning
from templates.fm_finetuning.product import FmFineTuningProduct
from templates.fm_hosting import product as fm_hosting
from templates.fm_hosting.product import FmHostingProduct
from templates.genai_app.product import GenAiAppProduct

TEMPLATES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class TemplateEntry:
    """One project template.

    :param required_features: the team features the template needs, every one (e.g.
        ``pipelines``).
    :param stages: the stages whose accounts offer the template (e.g. ``dev``). Default: every
        stage.
    :param needs_bedrock_models: the template calls a Bedrock model of the team. Default: no.
    :param images: the template's image slots: slot -> the AWS-provided image it runs by default;
        each slot also has a custom-image repository in the organisation's mirror, which the app
        creates. Default: none (the template runs no container).
    """

    id: str
    name: str
    description: str
    product_stack: type[ProjectProductStack]
    version: str
    required_features: frozenset[str]
    stages: frozenset[str] | None = None
    needs_bedrock_models: bool = False
    images: Mapping[str, AwsImage] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return TEMPLATES_DIR / self.id.replace("-", "_")

    @property
    def seed(self) -> Path:
        return self.folder / "seed"


REGISTRY: tuple[TemplateEntry, ...] = (
    TemplateEntry(
        id="genai-app",
        name="GenAI application on Bedrock",
        description="Private API and Lambda back-end in the VPC, the team guardrail on every call, a versioned "
                    "prompt catalog (Bedrock Prompt Management) and a feedback store where end users rate answers",
        product_stack=GenAiAppProduct,
        version="1.2.0",
        required_features=frozenset({"bedrock-agents", "private-api"}),
        needs_bedrock_models=True,
    ),
    TemplateEntry(
        id="fm-finetuning",
        name="FM fine-tuning (PEFT)",
        description="SageMaker pipeline: process, LoRA fine-tune, evaluate, check the score, register the model "
                    "pending manual approval; an approved model is copied to the next stage's account and awaits "
                    "approval there again (preprod, then prod)",
        product_stack=FmFineTuningProduct,
        version="1.3.0",
        required_features=frozenset({"pipelines"}),
        stages=frozenset({"dev"}),
        images=fm_finetuning.IMAGES,
    ),
    TemplateEntry(
        id="fm-hosting",
        name="FM hosting",
        description="A model of the FM catalog on a private, autoscaled SageMaker endpoint with data capture and "
                    "alarms, the AWS-provided TGI image (or a custom one of the organisation's ECR mirror): weights staged in the team bucket, or an "
                    "approved model package of the team's registry (fine-tuned, or promoted from the previous stage)",
        product_stack=FmHostingProduct,
        version="1.3.0",
        required_features=frozenset({"hosting"}),
        images=fm_hosting.IMAGES,
    ),
    TemplateEntry(
        id="fm-evaluation",
        name="FM evaluation and prompt testing",
        description="Evaluation pipeline that joins testers' human scores from the prompt-test repository with "
                    "LLM-judge scores (Bedrock, through the guardrail) into an `fmops select-fm --scores` file",
        product_stack=FmEvaluationProduct,
        version="1.3.0",
        required_features=frozenset({"pipelines", "bedrock"}),
        stages=frozenset({"dev", "preprod"}),
        needs_bedrock_models=True,
        images=fm_evaluation.IMAGES,
    ),
    TemplateEntry(
        id="classical-ml",
        name="Classical ML train and deploy",
        description="SageMaker pipeline (preprocess, XGBoost training, evaluation, registration pending approval) "
                    "and a private endpoint of an approved model package (the project's, or one promoted from the "
                    "previous stage), deployed by updating the project",
        product_stack=ClassicalMlProduct,
        version="1.3.0",
        required_features=frozenset({"pipelines"}),
        images=classical_ml.IMAGES,
    ),
    TemplateEntry(
        id="data-labeling",
        name="Data labeling (Ground Truth private workforce)",
        description="A private work team of the account's labelers (a Cognito group on the account's workforce, "
                    "portal in the VPC), the labeling role, and the S3 layout and seed scripts of labeling jobs",
        product_stack=DataLabelingProduct,
        version="1.0.0",
        required_features=frozenset({"studio"}),
        stages=frozenset({"dev"}),
    ),
)

BY_ID: dict[str, TemplateEntry] = {entry.id: entry for entry in REGISTRY}
