"""The bench's chart: cold-start distributions and warm latency, as one PNG.

matplotlib is imported here only, when a chart is drawn, with the Agg
backend (no display needed). Both panels use a log scale: the
sentence-transformers baseline is about 25 times slower to start than the
others, and a linear axis would flatten them into one line.
"""

from __future__ import annotations

from pathlib import Path

from coldbrew.bench.results import BenchResult

_COLOURS = {"coldbrew": "#1f77b4", "a": "#ff7f0e", "b": "#d62728", "c": "#2ca02c", "d": "#9467bd"}


def write_chart(result: BenchResult, path: Path) -> Path:
    """Draw the chart of ``result`` into ``path`` (PNG); returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = result.variants
    figure, (cold_ax, warm_ax) = plt.subplots(1, 2, figsize=(13, 5.5), layout="constrained")
    try:
        labels = [r.variant.label for r in variants]
        cold = [[s.latency_ms for s in r.cold_ok] for r in variants]
        positions = list(range(1, len(variants) + 1))
        drawn = [(p, c) for p, c in zip(positions, cold, strict=True) if c]
        if drawn:
            cold_ax.boxplot(
                [c for _, c in drawn],
                positions=[p for p, _ in drawn],
                widths=0.5,
                showfliers=False,  # every sample is drawn as a dot already
            )
        for position, samples, r in zip(positions, cold, variants, strict=True):
            colour = _COLOURS.get(r.variant.key, "grey")
            xs = [position + 0.18 * ((i % 5) - 2) / 2 for i in range(len(samples))]
            cold_ax.scatter(xs, samples, s=14, alpha=0.7, color=colour, zorder=3)
        cold_ax.set_xticks(positions, labels, rotation=12)
        cold_ax.set_yscale("log")
        cold_ax.set_ylabel("first response from a fresh sandbox, client-side (ms, log)")
        runs = max((len(c) for c in cold), default=0)
        cold_ax.set_title(f"Cold start ({runs} fresh sandboxes per variant)")
        cold_ax.grid(axis="y", which="both", alpha=0.3)

        embedders = [r for r in variants if r.variant.embeds]
        batch = result.settings.get("batch_size", 32)
        warm_data: list[list[float]] = []
        warm_pos: list[float] = []
        ticks: list[float] = []
        for index, r in enumerate(embedders):
            base = float(index * 3 + 1)
            ticks.append(base + 0.5)
            for offset, samples in ((0.0, r.warm_b1_ms), (1.0, r.warm_b32_ms)):
                if samples:
                    warm_data.append(samples)
                    warm_pos.append(base + offset)
        if warm_data:
            boxes = warm_ax.boxplot(warm_data, positions=warm_pos, widths=0.7, patch_artist=True)
            for patch, where in zip(boxes["boxes"], warm_pos, strict=True):
                patch.set_facecolor("#9ecae1" if where % 3 == 1 else "#fdae6b")
        warm_ax.set_xticks(ticks, [r.variant.label for r in embedders], rotation=12)
        warm_ax.set_yscale("log")
        warm_ax.set_ylabel("warm request latency, client-side (ms, log)")
        warm_ax.set_title(f"Warm latency: batch 1 (blue) and batch {batch} (orange)")
        warm_ax.grid(axis="y", which="both", alpha=0.3)
        figure.suptitle(
            f"coldbrew bench, {result.started_at}, {result.environment.get('cpu_model', '')}"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
    return path
