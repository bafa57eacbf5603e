"""Summarise a ``cdk synth`` output directory: stacks, resources and outputs.

Run as ``python -m coldbrew.cli.synth_summary cdk.out`` (``make demo`` does).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def summarize(cdk_out: Path) -> list[str]:
    """One line per stack, then its resource types and outputs."""
    templates = sorted(cdk_out.glob("*.template.json"))
    if not templates:
        return [f"no templates in {cdk_out}: did `cdk synth` run?"]
    lines = []
    for template_path in templates:
        template = json.loads(template_path.read_text(encoding="utf-8"))
        resources = template.get("Resources", {})
        lines.append(
            f"stack {template_path.name.removesuffix('.template.json')}: "
            f"{len(resources)} resources ({template_path})"
        )
        counts = Counter(r.get("Type", "?") for r in resources.values())
        lines.extend(f"  {count} x {kind}" for kind, count in sorted(counts.items()))
        for name, resource in sorted(resources.items()):
            if resource.get("Type") == "AWS::Lambda::Url":
                auth = resource.get("Properties", {}).get("AuthType")
                lines.append(f"  function URL {name}: auth {auth}")
        for name in sorted(template.get("Outputs", {})):
            lines.append(f"  output {name}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the summary of the directory named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    print("\n".join(summarize(Path(args[0] if args else "cdk.out"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
