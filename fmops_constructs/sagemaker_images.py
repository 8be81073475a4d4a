"""AWS-provided SageMaker images (built-in algorithms, framework and Deep Learning Containers),
resolved per Region at synth time from the image URI data bundled with the pinned SageMaker
Python SDK (``sagemaker.image_uris.retrieve``), never from a hand-kept table.

SageMaker pulls these images from the AWS-owned registries with the execution role of the job
or model (ECR login plus the pull actions on the image's repository: :meth:`AwsImage.repository_arn`),
on its side of the network: nothing is pushed, and no VPC of the account needs a route for it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class AwsImage:
    """One AWS-provided image, in the words of ``sagemaker.image_uris.retrieve``.

    :param framework: the SDK's framework name (``sklearn``, ``xgboost``, ``pytorch``,
        ``huggingface``, ``huggingface-llm``...).
    :param version: the framework (or algorithm) version.
    :param image_scope: ``training`` or ``inference`` where the framework has both. Default: none.
    :param py_version: the Python version tag (``py3``, ``py311``...). Default: none.
    :param instance_type: an instance type of the family the image is for (CPU or GPU build).
        Default: none.
    :param base_framework_version: the base framework of a Hugging Face image (``pytorch2.1``).
        Default: none.
    :param purpose: what the image runs, for documentation.
    """

    framework: str
    version: str
    image_scope: str | None = None
    py_version: str | None = None
    instance_type: str | None = None
    base_framework_version: str | None = None
    purpose: str = ""

    def uri(self, region: str) -> str:
        """The image URI in ``region`` (``<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>``)."""
        return _retrieve(self, region)

    def repository_arn(self, region: str) -> str:
        """``Fn::Sub`` text of the ARN of the image's repository in its AWS-owned registry."""
        account, image_region, repository = ecr_parts(self.uri(region))
        return f"arn:${{AWS::Partition}}:ecr:{image_region}:{account}:repository/{repository}"

    def repository_prefix(self, region: str) -> str:
        """``<registry host>/<repository>:``: what every tag of the image's repository starts with."""
        uri = self.uri(region)
        return uri[:uri.rindex(":") + 1]


def ecr_parts(image: str) -> tuple[str, str, str]:
    """(account, region, repository) of ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``."""
    registry, _, rest = image.partition("/")
    account, _, _, region = registry.split(".")[:4]
    return account, region, rest.split("@")[0].split(":")[0]


@lru_cache(maxsize=None)
def _retrieve(image: AwsImage, region: str) -> str:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    # The SDK logs where it looked for its defaults file at import; the synth output is no place for it.
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    from sagemaker import image_uris  # heavy import: only when a template names an AWS image

    return str(image_uris.retrieve(image.framework, region, version=image.version, image_scope=image.image_scope,
                                   py_version=image.py_version, instance_type=image.instance_type,
                                   base_framework_version=image.base_framework_version))


# -- the images the project templates default to -------------------------------------------------
SKLEARN_PROCESSING = AwsImage("sklearn", "1.2-1", image_scope="training", py_version="py3",
                              instance_type="ml.m5.xlarge", purpose="scikit-learn processing")
XGBOOST = AwsImage("xgboost", "1.7-1", purpose="XGBoost (train, evaluate, serve)")
HUGGINGFACE_TRAINING = AwsImage("huggingface", "4.36", image_scope="training", py_version="py310",
                                instance_type="ml.g5.2xlarge", base_framework_version="pytorch2.1",
                                purpose="Hugging Face PyTorch training")
# Text Generation Inference: what fm-finetuning registers its models with and fm-hosting serves.
TGI_SERVING = AwsImage("huggingface-llm", "2.4.0", instance_type="ml.g5.2xlarge",
                       purpose="Hugging Face TGI serving")
# A CPU PyTorch container as a plain Python 3.12 runtime with boto3, for steps calling AWS APIs.
PYTHON_CPU = AwsImage("pytorch", "2.6", image_scope="training", py_version="py312", instance_type="ml.m5.large",
                      purpose="PyTorch CPU (Python 3.12, boto3)")
