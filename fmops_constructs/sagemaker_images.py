"""AWS-provided SageMaker images (built-in algorithms, framework and Deep Learning Containers),
resolved per Region at synth time from the image URI data bundled with the pinned SageMaker
Python SDK (``sagemaker.image_uris.retrieve``), never from a hand-kept table.

SageMaker pulls these images from the AWS-owned registries with the execution role of the job
or model (ECR login plus the pull actions on the image's repository: :meth:`AwsImage.repository_arn`),
on its side of the network: nothing is pushed, and no VPC of the account needs a route for it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


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


# The URIs of the images below (DEFAULT_IMAGES) in every Region the SDK lists, generated from the
# pinned SDK by ``python -m fmops_constructs.sagemaker_images`` (a test proves the table is what
# the SDK returns): importing the SDK costs about 2.7 s of CPU, more than all the templates' other
# work, so a synth reads the table and asks the SDK only for an image or Region outside it.
TABLE = Path(__file__).with_name("sagemaker_image_uris.json")


def _key(image: AwsImage) -> str:
    return "|".join(str(v) for v in (image.framework, image.version, image.image_scope, image.py_version,
                                     image.instance_type, image.base_framework_version))


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    return json.loads(TABLE.read_text(encoding="utf-8")) if TABLE.exists() else {}


@lru_cache(maxsize=None)
def _retrieve(image: AwsImage, region: str) -> str:
    known = _table().get(_key(image), {}).get(region)
    return known if known is not None else _sdk_retrieve(image, region)


def _sdk_retrieve(image: AwsImage, region: str) -> str:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    # The SDK logs where it looked for its defaults file at import; the synth output is no place for it.
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    from sagemaker import image_uris  # heavy import: only for an image or Region outside the table

    return str(image_uris.retrieve(image.framework, region, version=image.version, image_scope=image.image_scope,
                                   py_version=image.py_version, instance_type=image.instance_type,
                                   base_framework_version=image.base_framework_version))


def generate_table() -> dict[str, dict[str, str]]:
    """DEFAULT_IMAGES in every Region of the SageMaker endpoints botocore knows, from the SDK."""
    import boto3

    regions = sorted(boto3.session.Session().get_available_regions("sagemaker"))
    table: dict[str, dict[str, str]] = {}
    for image in DEFAULT_IMAGES:
        uris = {}
        for region in regions:
            try:
                uris[region] = _sdk_retrieve(image, region)
            except ValueError:
                continue  # the SDK has no registry of the image there
        table[_key(image)] = uris
    return table


def table_text(table: dict[str, dict[str, str]]) -> str:
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


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
DEFAULT_IMAGES = (SKLEARN_PROCESSING, XGBOOST, HUGGINGFACE_TRAINING, TGI_SERVING, PYTHON_CPU)


if __name__ == "__main__":
    TABLE.write_text(table_text(generate_table()), encoding="utf-8")
    print(f"wrote {TABLE}")
