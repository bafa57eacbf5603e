"""A small stack to test one construct in, with cdk-nag and cfn-lint as the real app has them.

The stack holds a tiny function (a one-file zip written to ``tmp_path``), its
own role and an alias ``live``: what :class:`~infra.inference_function.InferenceFunction`
hands to the constructs, without depending on that construct's details.
cdk-nag's AwsSolutions pack is a validation plugin of the app, so
:meth:`Harness.synth` raises on any unacknowledged finding.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii prints a banner on every start under Node 20; set before aws_cdk is imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import Acknowledgment, App, Duration, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_SOURCE = "def handler(event, context):\n    return {'batchItemFailures': []}\n"
#: cfn-lint checks these regions: one where everything exists, one where not all might.
LINT_REGIONS = ["us-east-1", "eu-west-1"]


@dataclass
class Harness:
    """An app with one stack, a function, its role and alias ``live``, not yet synthesized."""

    app: App
    stack: Stack
    function: lambda_.Function
    role: iam.Role
    alias: lambda_.Alias
    outdir: Path

    def synth(self) -> Synthesized:
        """Synthesize the app (cdk-nag included: raises on findings) and keep the template."""
        template = Template.from_stack(self.stack)
        return Synthesized(harness=self, template=template)


@dataclass(frozen=True)
class Synthesized:
    """A synthesized harness: the template as CDK assertions and as the JSON written to disk."""

    harness: Harness
    template: Template

    @property
    def template_path(self) -> Path:
        return self.harness.outdir / f"{self.harness.stack.artifact_id}.template.json"

    def resources(self, type_: str) -> dict[str, Any]:
        found: dict[str, Any] = self.template.find_resources(type_)
        return found

    def only(self, type_: str) -> tuple[str, dict[str, Any]]:
        """The logical id and body of the one resource of ``type_``."""
        found = self.resources(type_)
        assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
        return next(iter(found.items()))

    def logical_id(self, construct: Any) -> str:
        """The logical id of a construct's CloudFormation resource (or of an L1 itself)."""
        element = construct.node.default_child or construct
        return str(self.harness.stack.get_logical_id(element))

    def _validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(
            (self.harness.outdir / "validation-report.json").read_text()
        )
        return report

    def nag_conclusions(self) -> dict[str, str]:
        """Each validation plugin's conclusion, e.g. ``{"AwsSolutions": "success"}``."""
        reports = self._validation_report()["pluginReports"]
        return {r["pluginName"]: r["conclusion"] for r in reports}

    def suppressed(self) -> list[tuple[str, str]]:
        """Every acknowledged finding as (rule, construct path): what was waved through."""
        return [
            (violation["ruleName"], construct["constructPath"])
            for report in self._validation_report()["pluginReports"]
            for violation in report.get("suppressedViolations", [])
            for construct in violation["violatingConstructs"]
        ]

    def lint(self) -> list[str]:
        """cfn-lint's findings on the template as written, but W3005 (see test_stack)."""
        from cfnlint.api import ManualArgs, lint_file

        matches = lint_file(self.template_path, config=ManualArgs(regions=LINT_REGIONS))
        return [str(m) for m in matches if m.rule.id != "W3005"]


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context (its feature flags), so constructs build as in the real app."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def make_harness(root: Path, *, timeout_s: int = 30, stack_name: str = "harness") -> Harness:
    """A harness under ``root``: the zip in ``root/dist``, the assembly in ``root/cdk.out``."""
    dist = root / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    artifact = dist / "tiny.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("lambda_function.py", HANDLER_SOURCE)

    outdir = root / "cdk.out"
    app = App(context=cdk_json_context(), outdir=str(outdir))
    stack = Stack(app, stack_name)
    # A role without managed policies (AwsSolutions-IAM4): it gets only what
    # the construct under test grants, so tests can assert exactly that.
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    function = lambda_.Function(
        stack,
        "Function",
        code=lambda_.Code.from_asset(str(artifact)),
        handler="lambda_function.handler",
        runtime=lambda_.Runtime.PYTHON_3_12,
        timeout=Duration.seconds(timeout_s),
        role=role,
    )
    Validations.of(function).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-L1",
            reason="Test fixture, never deployed: the runtime is irrelevant to the construct "
            "under test, and the real function pins the artifact's Python on purpose.",
        )
    )
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return Harness(app=app, stack=stack, function=function, role=role, alias=alias, outdir=outdir)


def dashboard_body(dashboard: dict[str, Any]) -> dict[str, Any]:
    """A dashboard resource's body as JSON, each token (Ref, GetAtt...) replaced by ``"<token>"``.

    CDK writes the body as an ``Fn::Join`` of text and tokens; the tokens sit
    inside JSON strings, so a placeholder keeps the text valid JSON.
    """
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, str):
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    separator, parts = body["Fn::Join"]
    text = separator.join(part if isinstance(part, str) else "<token>" for part in parts)
    parsed = json.loads(text)
    return parsed
