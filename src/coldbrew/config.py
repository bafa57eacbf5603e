"""The one CLI environment variable read outside an option: the cache directory.

Every command declares its options with :func:`coldbrew.cli.options.option`,
which keeps each variable's name beside its flag (``--help`` shows them).
``COLDBREW_CACHE_DIR`` is also read by ``python -m coldbrew.artifact.wheelhouse``,
which `make` runs without the CLI. The runtime's own variables (inside the
function) are in :mod:`coldbrew.runtime.settings`, which ships in artifacts;
this module does not.
"""

from __future__ import annotations

CACHE_DIR = "COLDBREW_CACHE_DIR"
