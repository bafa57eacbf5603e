"""The runtime core that ships inside artifacts.

It knows nothing about AWS or any other platform: adapters in
:mod:`coldbrew.platforms` turn platform events into :class:`Request` objects
and :class:`Response` objects back into platform results. The only
third-party import is tokenizers, by :mod:`coldbrew.runtime.embedder`; ONNX
Runtime is reached through its C library with ctypes
(:mod:`coldbrew.runtime.ort_capi`), so neither numpy nor the ``onnxruntime``
Python package is ever imported.
"""

from coldbrew.runtime.contract import EmbedRequest, Request, Response

__all__ = ["EmbedRequest", "Request", "Response"]
