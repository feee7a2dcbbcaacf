"""The provider edge: Replicate predictions in, stored media or classified errors out."""

from shared.providers.classify import (
    HTTP_RULES,
    PREDICTION_RULES,
    PROVIDER,
    classify_api_error,
    classify_exception,
    classify_prediction,
    classify_prediction_error,
)
from shared.providers.client import close_replicate_client, replicate_client
from shared.providers.medium import MediumSpec
from shared.providers.model_ref import ModelRef
from shared.providers.options import ReplicateOptions
from shared.providers.replicate_generator import ReplicateGenerator

__all__ = [
    "HTTP_RULES",
    "PREDICTION_RULES",
    "PROVIDER",
    "MediumSpec",
    "ModelRef",
    "ReplicateGenerator",
    "ReplicateOptions",
    "classify_api_error",
    "classify_exception",
    "classify_prediction",
    "classify_prediction_error",
    "close_replicate_client",
    "replicate_client",
]
