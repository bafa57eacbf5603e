"""Loading an embedder in two steps, so a cold start can do other work in between.

:func:`start_loading` returns at once; :meth:`LoadingEmbedder.result` returns
the :class:`~coldbrew.runtime.embedder.OnnxEmbedder`. Where the function has
the CPU for it, the ONNX Runtime session (``dlopen`` of the 17 MB library,
then reading, parsing and prepacking the model: the largest part of a cold
start) is created on a second thread from the start, while the main thread
imports the rest of the handler, imports ``tokenizers`` and loads the
tokenizer. ctypes releases the GIL for every foreign call, so the two
really overlap (:mod:`coldbrew.runtime.background`).

Only with more than about one CPU: below that, the two threads share one CPU
quota and the thread costs more than it overlaps. Measured on a 2-core host,
page cache dropped, cold starts interleaved: with a second core free, 10-23 ms
less per cold start (``coldbrew bench``, 50 each, both at 2 ONNX Runtime
threads); under a 0.58-CPU CFS quota (what Lambda gives 1,024 MB), 24-28 ms
more init. The signal used is ``intra_op_threads``, which :mod:`coldbrew.runtime.settings`
derives from the function's memory (its whole vCPUs, rounded): 1 means about
one vCPU or less, and then everything is loaded in sequence, as before.

Errors are raised by :meth:`LoadingEmbedder.result`, in the order a
sequential load meets them (manifest, missing files, tokenizer, session):
the same exception an init failure reported before.

Imports nothing heavy: ``tokenizers`` (with the embedder module) is imported
by :meth:`LoadingEmbedder.result`, which is where its import time overlaps
the session.
"""

from __future__ import annotations

import os

from coldbrew.errors import ConfigurationError
from coldbrew.runtime.background import Background
from coldbrew.runtime.model_info import MODEL_FILE, TOKENIZER_FILE, read_model_info
from coldbrew.runtime.ort_capi import OrtLibrary, Session

# Not typing.TYPE_CHECKING: importing typing here (~2.6 ms) would delay the
# start of the session; tokenizers imports it later, while the session loads.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from coldbrew.runtime.embedder import OnnxEmbedder


def start_loading(
    model_dir: str | os.PathLike[str],
    *,
    intra_op_threads: int = 0,
    batch_size: int = 1,
    background: bool | None = None,
) -> LoadingEmbedder:
    """Start loading the model in ``model_dir``; :meth:`LoadingEmbedder.result` finishes.

    ``background`` None decides by ``intra_op_threads``: a second thread
    unless it is 1 (one CPU or less; 0 is ONNX Runtime's choice, every core).
    """
    if background is None:
        background = intra_op_threads != 1
    return LoadingEmbedder(
        os.fspath(model_dir),
        intra_op_threads=intra_op_threads,
        batch_size=batch_size,
        background=background,
    )


class LoadingEmbedder:
    """An embedder being loaded: the session on a thread of its own, or later in sequence."""

    def __init__(
        self, model_dir: str, *, intra_op_threads: int, batch_size: int, background: bool
    ) -> None:
        self.model_dir = model_dir
        self._intra_op_threads = intra_op_threads
        self._batch_size = batch_size
        self._embedder: OnnxEmbedder | None = None
        self._session: Background | None = None
        if background:
            # Nothing is checked first: if the model is missing, the thread
            # fails and result() reports the missing file, as a sequential load does.
            self._session = Background(self._create_session, name="coldbrew-onnx-session")

    @property
    def background(self) -> bool:
        """Whether the session is being created on a second thread."""
        return self._session is not None

    def _create_session(self) -> Session:
        return Session(
            OrtLibrary(),
            os.path.join(self.model_dir, MODEL_FILE),
            intra_op_threads=self._intra_op_threads,
            inter_op_threads=1,
        )

    def result(self) -> OnnxEmbedder:
        """The loaded embedder (the same object on every call); raises what loading raised.

        If anything fails before the session is joined, the session thread
        is waited for first, so a failed init exits only once ONNX Runtime is
        no longer working on the other thread.
        """
        if self._embedder is not None:
            return self._embedder
        try:
            # Here, not at module scope: this import (tokenizers, a 7.6 MB
            # extension) is part of what overlaps the session.
            from coldbrew.runtime.embedder import OnnxEmbedder, load_tokenizer

            info = read_model_info(self.model_dir)
            for name in (MODEL_FILE, TOKENIZER_FILE):
                required = os.path.join(self.model_dir, name)
                if not os.path.isfile(required):
                    raise ConfigurationError(f"model file not found: {required}")
            tokenizer = load_tokenizer(
                os.path.join(self.model_dir, TOKENIZER_FILE), info.max_tokens
            )
        except BaseException:
            if self._session is not None:
                self._session.wait()
            raise
        session = self._create_session() if self._session is None else self._session.result()
        assert isinstance(session, Session)  # what _create_session returns
        self._embedder = OnnxEmbedder(session, tokenizer, info, batch_size=self._batch_size)
        return self._embedder
