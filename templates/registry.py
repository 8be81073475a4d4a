"""The explicit list of self-service project templates.

Each entry names one folder of ``templates/`` (product stack module, ``seed/`` code, README)
and is published as one versioned Service Catalog product in the portfolio of every team that
has the entry's features, in the accounts of the entry's stages. Bump ``version`` whenever the
template or its seed code changes: it names the product's provisioning artifact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fmops_constructs.project import ProjectProductStack
from infra.config import Feature, Stage, Team
from templates.classical_ml.product import ClassicalMlProduct
from templates.data_labeling.product import DataLabelingProduct
from templates.fm_evaluation.product import FmEvaluationProduct
from templates.fm_finetuning.product import FmFineTuningProduct
from templates.fm_hosting.product import FmHostingProduct
from templates.genai_app.product import GenAiAppProduct

TEMPLATES_DIR = Path(__file__).resolve().parent
ALL_STAGES = frozenset(Stage)


@dataclass(frozen=True)
class TemplateEntry:
    """One project template."""

    id: str
    name: str
    description: str
    product_stack: type[ProjectProductStack]
    version: str
    required_features: frozenset[Feature]
    stages: frozenset[Stage] = ALL_STAGES
    needs_bedrock_models: bool = False

    @property
    def folder(self) -> Path:
        return TEMPLATES_DIR / self.id.replace("-", "_")

    @property
    def seed(self) -> Path:
        return self.folder / "seed"

    def offered_to(self, team: Team, stage: Stage | None) -> bool:
        """The team has every required feature (and Bedrock models, if the template calls one)
        and the account's stage is one of the entry's (single-account mode: any stage)."""
        has_models = team.genai is not None and bool(team.genai.bedrock_models)
        return (self.required_features <= set(team.features) and (has_models or not self.needs_bedrock_models)
                and (stage is None or stage in self.stages))


REGISTRY: tuple[TemplateEntry, ...] = (
    TemplateEntry(
        id="genai-app",
        name="GenAI application on Bedrock",
        description="Private API and Lambda back-end in the VPC, the team guardrail on every call, a versioned "
                    "prompt catalog (Bedrock Prompt Management) and a feedback store where end users rate answers",
        product_stack=GenAiAppProduct,
        version="1.0.0",
        required_features=frozenset({Feature.BEDROCK_AGENTS, Feature.PRIVATE_API}),
        needs_bedrock_models=True,
    ),
    TemplateEntry(
        id="fm-finetuning",
        name="FM fine-tuning (PEFT)",
        description="SageMaker pipeline: process, LoRA fine-tune, evaluate, check the score, register the model "
                    "pending manual approval; an approved model is copied to the next stage's account and awaits "
                    "approval there again (preprod, then prod)",
        product_stack=FmFineTuningProduct,
        version="1.1.0",
        required_features=frozenset({Feature.PIPELINES}),
        stages=frozenset({Stage.DEV}),
    ),
    TemplateEntry(
        id="fm-hosting",
        name="FM hosting",
        description="A model of the FM catalog on a private, autoscaled SageMaker endpoint with data capture and "
                    "alarms, image from the organisation's ECR mirror: weights staged in the team bucket, or an "
                    "approved model package of the team's registry (fine-tuned, or promoted from the previous stage)",
        product_stack=FmHostingProduct,
        version="1.1.0",
        required_features=frozenset({Feature.HOSTING}),
    ),
    TemplateEntry(
        id="fm-evaluation",
        name="FM evaluation and prompt testing",
        description="Evaluation pipeline that joins testers' human scores from the prompt-test repository with "
                    "LLM-judge scores (Bedrock, through the guardrail) into an `fmops select-fm --scores` file",
        product_stack=FmEvaluationProduct,
        version="1.0.0",
        required_features=frozenset({Feature.PIPELINES, Feature.BEDROCK}),
        stages=frozenset({Stage.DEV, Stage.PREPROD}),
        needs_bedrock_models=True,
    ),
    TemplateEntry(
        id="classical-ml",
        name="Classical ML train and deploy",
        description="SageMaker pipeline (preprocess, XGBoost training, evaluation, registration pending approval) "
                    "and a private endpoint of an approved model package (the project's, or one promoted from the "
                    "previous stage), deployed by updating the project",
        product_stack=ClassicalMlProduct,
        version="1.1.0",
        required_features=frozenset({Feature.PIPELINES}),
    ),
    TemplateEntry(
        id="data-labeling",
        name="Data labeling (Ground Truth private workforce)",
        description="A private work team of the account's labelers (a Cognito group on the account's workforce, "
                    "portal in the VPC), the labeling role, and the S3 layout and seed scripts of labeling jobs",
        product_stack=DataLabelingProduct,
        version="1.0.0",
        required_features=frozenset({Feature.STUDIO}),
        stages=frozenset({Stage.DEV}),
    ),
)

BY_ID: dict[str, TemplateEntry] = {entry.id: entry for entry in REGISTRY}
