"""GPU instance types a foundation-model endpoint may use, with what one instance offers.

Plain data (no CDK import), shared by the typed config (the allowed list) and the FM endpoint
construct (an inference component that fills one instance asks for all of its accelerators
and part of its memory). Figures are the EC2 specifications of the matching instance family.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceResources:
    """Accelerators and memory (GiB) of one SageMaker hosting instance."""

    accelerators: int
    memory_gib: int


GPU_INSTANCE_TYPES: dict[str, InstanceResources] = {
    "ml.g4dn.xlarge": InstanceResources(1, 16),
    "ml.g4dn.12xlarge": InstanceResources(4, 192),
    "ml.g5.xlarge": InstanceResources(1, 16),
    "ml.g5.2xlarge": InstanceResources(1, 32),
    "ml.g5.12xlarge": InstanceResources(4, 192),
    "ml.g5.48xlarge": InstanceResources(8, 768),
    "ml.g6.xlarge": InstanceResources(1, 16),
    "ml.g6.12xlarge": InstanceResources(4, 192),
    "ml.g6.48xlarge": InstanceResources(8, 768),
    "ml.g6e.xlarge": InstanceResources(1, 32),
    "ml.g6e.12xlarge": InstanceResources(4, 384),
    "ml.p4d.24xlarge": InstanceResources(8, 1152),
    "ml.p5.48xlarge": InstanceResources(8, 2048),
}
