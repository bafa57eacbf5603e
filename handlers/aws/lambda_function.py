"""AWS Lambda entry point (function URL, HTTP API, direct invocation): wiring only.

The model loads here, at module scope, so its cost is paid once per sandbox,
inside Init Duration, and every invocation after it is warm.
"""

from pathlib import Path

from coldbrew.config import RuntimeConfig
from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.runtime.service import EmbeddingService

config = RuntimeConfig.from_env(default_model_dir=Path(__file__).resolve().parent / "model")
service = EmbeddingService.load(config)
handler = LambdaAdapter(service)
