"""AWS Lambda entry point (function URL, HTTP API, direct invocation, SQS batches): wiring only.

The model loads here, at module scope, so its cost is paid once per sandbox,
inside Init Duration (or before the SnapStart snapshot), and every invocation
after it is warm. The embedder is loaded apart from the service so the
SnapStart warm-up can run it without filling the service's cache.
"""

import os

from coldbrew.config import AsyncConfig, RuntimeConfig, initialization_type
from coldbrew.platforms.aws_lambda import LambdaAdapter
from coldbrew.platforms.result_sink import S3Client, lazy_s3_sink
from coldbrew.platforms.snapstart import register_snapstart
from coldbrew.runtime.embedder import OnnxEmbedder
from coldbrew.runtime.service import EmbeddingService


def s3_client() -> S3Client:
    # boto3 comes with Lambda's Python runtime, not the artifact; imported on
    # the first SQS batch only, never on the function URL's cold start.
    import boto3

    client: S3Client = boto3.client("s3")
    return client


config = RuntimeConfig.from_env(default_model_dir=os.path.join(os.path.dirname(__file__), "model"))
results = AsyncConfig.from_env()
embedder = OnnxEmbedder.load(
    config.model_dir, intra_op_threads=config.intra_op_threads, batch_size=config.batch_size
)
service = EmbeddingService(embedder, config)
register_snapstart(initialization_type(), embedder)
handler = LambdaAdapter(
    service, results=lazy_s3_sink(results, s3_client), result_prefix=results.result_prefix
)
