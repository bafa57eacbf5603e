"""Google Cloud Functions (2nd gen) entry point: wiring only.

Run as ``functions-framework --target=handle --signature-type=http``. The
model loads here, at import, which functions-framework does when the instance
starts (before it listens), so no request pays for it. A plain function rather
than ``@functions_framework.http``: the decorator would import the framework's
registry for nothing the HTTP signature needs.
"""

import os

from coldbrew.runtime.loading import start_loading
from coldbrew.runtime.settings import RuntimeConfig

config = RuntimeConfig.from_env(default_model_dir=os.path.join(os.path.dirname(__file__), "model"))
# Started before the imports below so that, where the CPU allows, they run
# while the ONNX session is created on a second thread; result() finishes it.
loading = start_loading(
    config.model_dir, intra_op_threads=config.intra_op_threads, batch_size=config.batch_size
)

from coldbrew.platforms.gcf import GcfAdapter, HttpRequest, HttpResult  # noqa: E402
from coldbrew.runtime.service import EmbeddingService  # noqa: E402

adapter = GcfAdapter(EmbeddingService(loading.result(), config))


def handle(request: HttpRequest) -> HttpResult:
    """The HTTP function: the contract's routes, as on Lambda."""
    return adapter(request)
