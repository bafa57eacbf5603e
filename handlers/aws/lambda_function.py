"""AWS Lambda entry point (function URL, HTTP API, direct invocation): wiring only.

The model loads here, at module scope, so its cost is paid once per sandbox,
inside Init Duration, and every invocation after it is warm.
"""

import os

from coldbrew.config import RuntimeConfig
from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.runtime.service import EmbeddingService

config = RuntimeConfig.from_env(default_model_dir=os.path.join(os.path.dirname(__file__), "model"))
service = EmbeddingService.load(config)
handler = LambdaAdapter(service)
