"""Draw the cost vs cold-start frontier of every policy, one panel per function."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from coldbrew.capacity.sweep import FunctionSweep

_STYLE = {
    "on-demand": ("black", "s"),
    "static": ("tab:gray", "o"),
    "target-tracking": ("tab:orange", "^"),
    "coldbrew": ("tab:blue", "D"),
    "oracle": ("tab:green", "*"),
}


def draw(sweeps: Sequence[FunctionSweep], path: Path, *, title: str) -> Path:
    """Write a PNG: per function, cost (y) against cold starts (x, symlog)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(4, len(sweeps)) or 1
    rows = math.ceil(len(sweeps) / columns) or 1
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.ravel()[len(sweeps) :]:
        axis.set_visible(False)
    for axis, sweep in zip(axes.ravel(), sweeps, strict=False):
        for policy, (colour, marker) in _STYLE.items():
            points = sorted(sweep.of(policy), key=lambda p: p.cold_starts)
            if points:
                axis.plot(
                    [p.cold_starts for p in points],
                    [p.cost_usd for p in points],
                    marker=marker,
                    color=colour,
                    label=policy,
                    linewidth=1,
                )
        reference = sweep.reference()
        if reference is not None:
            axis.scatter(
                [reference.cold_starts],
                [reference.cost_usd],
                s=140,
                facecolors="none",
                edgecolors="red",
                zorder=5,
            )
        axis.set_xscale("symlog", linthresh=1)
        axis.set_title(
            f"{sweep.function}\nmean concurrency {sweep.mean_concurrency:.2f}", fontsize=8
        )
        axis.set_xlabel("cold starts", fontsize=8)
        axis.set_ylabel("cost (USD)", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=7)
    figure.suptitle(title + " (red circle: target tracking at 0.7)", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
