"""AWS Lambda entry point (function URL, HTTP API, direct invocation, SQS batches): wiring only.

The model loads here, at module scope, so its cost is paid once per sandbox,
inside Init Duration (or before the SnapStart snapshot), and every invocation
after it is warm. The embedder is loaded apart from the service so the
SnapStart warm-up can run it without filling the service's cache.
"""

import os

from coldbrew.runtime.loading import start_loading
from coldbrew.runtime.settings import AsyncConfig, RuntimeConfig, initialization_type

config = RuntimeConfig.from_env(default_model_dir=os.path.join(os.path.dirname(__file__), "model"))
# Started before the imports below so that, where the CPU allows, they run
# while the ONNX session is created on a second thread; result() finishes it.
loading = start_loading(
    config.model_dir, intra_op_threads=config.intra_op_threads, batch_size=config.batch_size
)

from coldbrew.platforms.aws_lambda import LambdaAdapter  # noqa: E402 (after the start, on purpose)
from coldbrew.platforms.result_sink import S3Client, lazy_s3_sink  # noqa: E402
from coldbrew.platforms.snapstart import register_snapstart  # noqa: E402
from coldbrew.runtime.service import EmbeddingService  # noqa: E402


def s3_client() -> S3Client:
    # boto3 comes with Lambda's Python runtime, not the artifact; imported on
    # the first SQS batch only, never on the function URL's cold start.
    import boto3

    client: S3Client = boto3.client("s3")
    return client


results = AsyncConfig.from_env()
embedder = loading.result()
service = EmbeddingService(embedder, config)
register_snapstart(initialization_type(), embedder)
handler = LambdaAdapter(
    service, results=lazy_s3_sink(results, s3_client), result_prefix=results.result_prefix
)
