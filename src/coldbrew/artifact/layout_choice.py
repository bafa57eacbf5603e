"""Choosing an artifact layout from measured sizes and Lambda's limits (pure).

Lambda's documented limits: 50 MB zipped for a zip uploaded directly (larger
zips go through S3), 250 MB unzipped for a function and all its layers
together, 10 GB for a container image (base image included).

Preference, for ``--layout auto``:

1. ``zip``: the single zip, if it fits direct upload and unzips within 250 MB;
2. ``layer``: the function zip and the dependency layer, if each fits direct
   upload and together they unzip within 250 MB;
3. ``zip`` through S3, if the user allowed it (``via_s3``) and it unzips
   within 250 MB;
4. ``image``, if the task root is within 10 GB; else nothing fits.

A forced layout (``--layout zip|layer|image``) that does not fit raises
:class:`~coldbrew.errors.LambdaLimitError` naming the limit it breaks and the
layout that would fit. Every choice carries a reason a user can read.

API::

    choose_layout(zipped, unzipped, function_zipped=None, layer_zipped=None,
                  layer_unzipped=None, *, function_unzipped=None, via_s3=False,
                  requested="auto", limits=None) -> LayoutChoice
    needs_layer_sizes(zipped, unzipped, requested="auto", *, via_s3=False,
                      limits=None) -> bool
    parse_layout(value) -> Requested

Writing the layouts is :mod:`coldbrew.artifact.layouts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from coldbrew.artifact.limits import MB, Limits
from coldbrew.errors import BuildError, ConfigurationError, LambdaLimitError

Layout = Literal["zip", "layer", "image"]
Requested = Literal["auto", "zip", "layer", "image"]
LAYOUTS: tuple[Layout, ...] = ("zip", "layer", "image")
#: What ``--layout`` accepts.
REQUESTS: tuple[Requested, ...] = ("auto", "zip", "layer", "image")


def parse_layout(value: str) -> Requested:
    """Validate a ``--layout`` value."""
    if value not in REQUESTS:
        raise ConfigurationError(f"unknown layout {value!r}: use one of {', '.join(REQUESTS)}")
    return value


@dataclass(frozen=True)
class LayoutChoice:
    """The layout to ship and why, in words a user can act on."""

    layout: Layout
    reason: str
    #: The zip(s) exceed the direct-upload limit and must be uploaded through S3.
    via_s3: bool = False
    requested: Requested = "auto"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for the build report."""
        return {
            "layout": self.layout,
            "requested": self.requested,
            "via_s3": self.via_s3,
            "reason": self.reason,
        }


def _mb(size: int) -> str:
    if size >= 1024 * MB:
        return f"{size / (1024 * MB):.1f} GB"
    return f"{size / MB:.1f} MB"


def _limit(size: int) -> str:
    gigabytes = size / (1024 * MB)
    return f"{gigabytes:g} GB" if gigabytes >= 1 else f"{size / MB:g} MB"


def _over_direct(what: str, zipped: int, limits: Limits) -> list[str]:
    if zipped <= limits.direct_upload:
        return []
    return [
        f"{what} is {_mb(zipped)} zipped, over Lambda's {_limit(limits.direct_upload)} "
        "limit for direct upload"
    ]


def _over_unzipped(what: str, unzipped: int, limits: Limits) -> list[str]:
    if unzipped <= limits.unzipped:
        return []
    return [
        f"{what} would unzip to {_mb(unzipped)}, over Lambda's {_limit(limits.unzipped)} "
        "limit for a function and its layers"
    ]


@dataclass(frozen=True)
class _Sizes:
    zipped: int
    unzipped: int
    function_zipped: int | None
    layer_zipped: int | None
    layer_total: int  # function + layer, unzipped

    def layer_problems(self, limits: Limits, *, direct: bool) -> list[str]:
        together = _over_unzipped("the function and layer together", self.layer_total, limits)
        if self.function_zipped is None or self.layer_zipped is None:
            if together:  # the same files, split or not: no need to measure the split
                return together
            raise BuildError(
                "the layer layout's sizes are needed but were not measured: write it "
                "(needs_layer_sizes() says when) and pass function_zipped and layer_zipped"
            )
        if not direct:
            return together
        return [
            *_over_direct("the function zip", self.function_zipped, limits),
            *_over_direct("the layer", self.layer_zipped, limits),
            *together,
        ]

    def layer_summary(self) -> str:
        return (
            f"the function zip ({_mb(self.function_zipped or 0)}) and the dependency layer "
            f"({_mb(self.layer_zipped or 0)}) unzip to {_mb(self.layer_total)} together"
        )


def _auto(sizes: _Sizes, via_s3: bool, limits: Limits) -> LayoutChoice:
    unzipped_problems = _over_unzipped("the zip", sizes.unzipped, limits)
    zip_problems = _over_direct("the zip", sizes.zipped, limits) + unzipped_problems
    if not zip_problems:
        return LayoutChoice(
            "zip",
            f"the zip is {_mb(sizes.zipped)} zipped and unzips to {_mb(sizes.unzipped)}, within "
            f"Lambda's {_limit(limits.direct_upload)} direct-upload and "
            f"{_limit(limits.unzipped)} unzipped limits",
        )
    layer_problems = sizes.layer_problems(limits, direct=True)
    if not layer_problems:
        return LayoutChoice(
            "layer",
            f"{'; '.join(zip_problems)}; split, {sizes.layer_summary()}: each part fits "
            f"direct upload and the total fits the {_limit(limits.unzipped)} limit",
        )
    if unzipped_problems:
        split = "a layer does not help: a function and its layers share that limit"
    else:
        split = f"split into function and layer, {'; '.join(layer_problems)}"
    why = [*zip_problems, split]
    if via_s3 and not unzipped_problems:
        return LayoutChoice(
            "zip",
            f"{'; '.join(why)}; --via-s3 allows a zip uploaded through S3, and it unzips to "
            f"{_mb(sizes.unzipped)}, within {_limit(limits.unzipped)}",
            via_s3=True,
        )
    if sizes.unzipped > limits.image:
        raise LambdaLimitError(
            f"the task root is {_mb(sizes.unzipped)}, over Lambda's {_limit(limits.image)} "
            "limit for a container image: quantize or shrink the model, or drop dependencies"
        )
    if not unzipped_problems:
        why.append("S3 upload is not allowed (rebuild with --via-s3 to ship the zip through S3)")
    return LayoutChoice(
        "image",
        f"{'; '.join(why)}; a container image holds up to {_limit(limits.image)}: the task "
        f"root's {_mb(sizes.unzipped)} plus the base image",
    )


def _forced_problems(requested: Layout, sizes: _Sizes, via_s3: bool, limits: Limits) -> list[str]:
    if requested == "zip":
        over = [] if via_s3 else _over_direct("the zip", sizes.zipped, limits)
        return over + _over_unzipped("the zip", sizes.unzipped, limits)
    if requested == "layer":
        return sizes.layer_problems(limits, direct=not via_s3)
    if sizes.unzipped <= limits.image:
        return []
    return [
        f"the task root is {_mb(sizes.unzipped)}, over Lambda's {_limit(limits.image)} "
        "limit for a container image"
    ]


def _forced(requested: Layout, sizes: _Sizes, via_s3: bool, limits: Limits) -> LayoutChoice:
    """The forced layout's choice, or :class:`LambdaLimitError` naming what would fit."""
    flag = f"--layout {requested}"
    problems = _forced_problems(requested, sizes, via_s3, limits)
    if not problems:
        if requested == "zip":
            over = sizes.zipped > limits.direct_upload
            sized = f"the zip is {_mb(sizes.zipped)} zipped and unzips to {_mb(sizes.unzipped)}"
        elif requested == "layer":
            parts = (sizes.function_zipped or 0, sizes.layer_zipped or 0)
            over = max(parts) > limits.direct_upload
            sized = sizes.layer_summary()
        else:
            over = False
            sized = f"the task root is {_mb(sizes.unzipped)} (plus the base image)"
        limit = limits.image if requested == "image" else limits.unzipped
        reason = f"{flag}: {sized}, within {_limit(limit)}"
        if over:
            reason += "; uploaded through S3, as --via-s3 allows"
        return LayoutChoice(requested, reason, via_s3=over, requested=requested)
    try:
        fits = _auto(sizes, via_s3, limits)
    except LambdaLimitError as exc:
        if requested == "image":  # the image is the last resort: its problem is the whole story
            raise LambdaLimitError(f"{flag} does not fit: {exc}") from None
        raise LambdaLimitError(
            f"{flag} does not fit: {'; '.join(problems)}; and no other layout fits: {exc}"
        ) from None
    options = [f"--layout {fits.layout} (what --layout auto picks)"]
    if fits.via_s3:
        options[0] = f"--layout {fits.layout} --via-s3 (what --layout auto picks)"
    if requested != "image" and not via_s3 and not _forced_problems(requested, sizes, True, limits):
        options.append(f"{flag} --via-s3")
    raise LambdaLimitError(
        f"{flag} does not fit: {'; '.join(problems)}. Use {' or '.join(options)}"
    )


def choose_layout(
    zipped: int,
    unzipped: int,
    function_zipped: int | None = None,
    layer_zipped: int | None = None,
    layer_unzipped: int | None = None,
    *,
    function_unzipped: int | None = None,
    via_s3: bool = False,
    requested: str = "auto",
    limits: Limits | None = None,
) -> LayoutChoice:
    """Pick the layout for these sizes (bytes), with a reason; pure.

    ``zipped``/``unzipped`` are the single zip's. The layer split's sizes are
    needed only when :func:`needs_layer_sizes` says so. Its total unzipped size
    is ``function_unzipped + layer_unzipped`` when both are given, else
    ``unzipped`` (the same files). ``requested`` is ``auto`` or a forced layout;
    a forced one that does not fit raises :class:`LambdaLimitError`.
    """
    limits = limits or Limits()
    wanted = parse_layout(requested)
    split_known = function_unzipped is not None and layer_unzipped is not None
    sizes = _Sizes(
        zipped,
        unzipped,
        function_zipped,
        layer_zipped,
        (function_unzipped or 0) + (layer_unzipped or 0) if split_known else unzipped,
    )
    if wanted == "auto":
        return _auto(sizes, via_s3, limits)
    return _forced(wanted, sizes, via_s3, limits)


def needs_layer_sizes(
    zipped: int,
    unzipped: int,
    requested: str = "auto",
    *,
    via_s3: bool = False,
    limits: Limits | None = None,
) -> bool:
    """Whether :func:`choose_layout` will need the layer split measured (it costs a zip)."""
    limits = limits or Limits()
    wanted = parse_layout(requested)
    if wanted == "layer":
        return True
    if wanted == "image" or (wanted == "zip" and via_s3):
        return False
    # Past the unzipped limit the split cannot help: it holds the same files.
    return zipped > limits.direct_upload and unzipped <= limits.unzipped
