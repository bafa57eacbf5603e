"""The runtime core that ships inside artifacts.

It knows nothing about AWS or any other platform: adapters in
:mod:`coldbrew.platforms` turn platform events into :class:`Request` objects
and :class:`Response` objects back into platform results. Only numpy,
onnxruntime and tokenizers may be imported here, and only by the modules that
need them (:mod:`coldbrew.runtime.embedder`).
"""

from coldbrew.runtime.contract import EmbedRequest, Request, Response

__all__ = ["EmbedRequest", "Request", "Response"]
