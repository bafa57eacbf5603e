"""Entry point of the CDK app: ``python -m infra.app`` (run by the CDK CLI).

Settings are read from CDK context exactly once, here, and handed to the stack
as a frozen object. The app never builds anything: it deploys the artifact
that ``coldbrew build`` produced, in whichever layout it wrote (a container
image is only staged here; CDK builds it at deploy time).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from coldbrew.errors import ConfigurationError
from infra.settings import DeploymentSettings
from infra.stacks import ColdbrewStack

#: The context key of ``cx_api``'s ASSET_RESOURCE_METADATA_ENABLED_CONTEXT (not exported to Python).
ASSET_METADATA_CONTEXT = "aws:cdk:enable-asset-metadata"


def build_app(
    context: Mapping[str, object] | None = None, *, outdir: str | None = None
) -> tuple[App, ColdbrewStack]:
    """Create the app and its one stack, ready to ``synth()``.

    ``context`` is added to whatever context the CDK CLI passes in; tests use
    it to build the app in-process. Raises
    :class:`~coldbrew.errors.ConfigurationError` for bad ``coldbrew:`` context.
    """
    # CDK's asset metadata (aws:asset:path) is how SAM CLI finds the artifact in
    # cdk.out; the CDK CLI turns it on, so on by default whoever synthesizes
    # (context from the CLI, e.g. --no-asset-metadata, still overrides it).
    defaults = {ASSET_METADATA_CONTEXT: True}
    app = App(context={**defaults, **(context or {})}, outdir=outdir)
    settings = DeploymentSettings.from_context(app.node.get_all_context())
    stack = ColdbrewStack(app, settings.stack_name, settings=settings)
    # cdk-nag AwsSolutions findings make synth fail; the justified exceptions
    # are acknowledged next to the resources they concern.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> int:
    """Synthesize the app; report a settings error in one line, not a traceback."""
    try:
        app, _ = build_app()
    except ConfigurationError as exc:
        print(f"coldbrew infra: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
