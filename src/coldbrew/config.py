"""Environment variable names still read outside :mod:`coldbrew.cli.options`'s factory.

Each command declares its options with :func:`coldbrew.cli.options.option`,
which keeps the variable's name beside its flag; the names here are those of
``coldbrew bench`` (not yet declared through the factory) and
``COLDBREW_CACHE_DIR``, which the wheelhouse tool
(:mod:`coldbrew.artifact.wheelhouse`) reads too. The runtime's own variables
(inside the function) are in :mod:`coldbrew.runtime.settings`, which ships in
artifacts; this module does not.
"""

from __future__ import annotations

# --- shared: the CLI's --cache-dir and python -m coldbrew.artifact.wheelhouse ---
CACHE_DIR = "COLDBREW_CACHE_DIR"

# --- bench's --project-dir (build declares the same name through the factory) ---
PROJECT_DIR = "COLDBREW_PROJECT_DIR"

# --- coldbrew bench -------------------------------------------------------------
BENCH_ARTIFACT = "COLDBREW_BENCH_ARTIFACT"
BENCH_BASELINES = "COLDBREW_BENCH_BASELINES"
BENCH_COLD_RUNS = "COLDBREW_BENCH_COLD_RUNS"
BENCH_WARM_RUNS = "COLDBREW_BENCH_WARM_RUNS"
BENCH_BATCH_RUNS = "COLDBREW_BENCH_BATCH_RUNS"
BENCH_THROUGHPUT_REQUESTS = "COLDBREW_BENCH_THROUGHPUT_REQUESTS"
BENCH_CONCURRENCY = "COLDBREW_BENCH_CONCURRENCY"
BENCH_MEMORY_MB = "COLDBREW_BENCH_MEMORY_MB"
BENCH_DROP_CACHES = "COLDBREW_BENCH_DROP_CACHES"
BENCH_JSON = "COLDBREW_BENCH_JSON"
BENCH_CHART = "COLDBREW_BENCH_CHART"
BENCH_WORK_DIR = "COLDBREW_BENCH_WORK_DIR"
