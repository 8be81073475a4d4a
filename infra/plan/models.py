"""Which Bedrock models a team may invoke, resolved from its config and the FM catalog."""

from __future__ import annotations

from fmops_constructs.bedrock import BedrockModel
from infra.config import OrgConfig, Team


def team_bedrock_models(config: OrgConfig, team: Team) -> list[BedrockModel]:
    """The Bedrock models of the team's genai section, in-Region or through its inference profiles."""
    if team.genai is None:
        return []
    catalog = config.catalog
    return [BedrockModel(model_id=catalog.get(model).bedrock_model_id, geography=team.genai.cross_region_inference)
            for model in team.genai.bedrock_models]
