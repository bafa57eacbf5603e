"""``coldbrew bench``: the artifact against its baselines, in one run, with ratios.

Every figure comes through the local function URL (real awslambdaric
sandboxes, real HTTP) on this machine, and every variant is measured in the
same run, so the ratios hold even where the absolute figures drift. The
pieces, one concept each:

* :mod:`~coldbrew.bench.variants` and :mod:`~coldbrew.bench.st_baseline` -
  building each variant (coldbrew, unslimmed, sentence-transformers, floor).
* :mod:`~coldbrew.bench.measure` - cold starts (interleaved across variants),
  warm latency and throughput against running function URLs.
* :mod:`~coldbrew.bench.run` - starts the variants and drives the measurements.
* :mod:`~coldbrew.bench.stats`, :mod:`~coldbrew.bench.ratios`,
  :mod:`~coldbrew.bench.results` - summaries, ratios with targets, the JSON.
* :mod:`~coldbrew.bench.table`, :mod:`~coldbrew.bench.chart` - the output.

Importing this package loads nothing heavy; matplotlib only when charting.
"""
