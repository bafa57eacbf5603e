"""What ``coldbrew deploy`` prints: the plan's notes, each call as it is made, and a summary.

::

    result = deploy_and_print(console, spec, clients, dry_run=False)
    if result is not None:
        print_summary(console, spec, result, clients)

Calls and summaries are printed as plain lines (no markup, never wrapped):
scripts and tests parse them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coldbrew.errors import DeployError

if TYPE_CHECKING:
    from rich.console import Console

    from coldbrew.deploy.clients import DeployClients
    from coldbrew.deploy.execute import DeployResult
    from coldbrew.deploy.spec import DeploySpec


def print_plain(console: Console, line: str) -> None:
    """A line printed as is: no markup, no highlighting, never wrapped (it may be parsed)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def deploy_and_print(
    console: Console, spec: DeploySpec, clients: DeployClients, *, dry_run: bool
) -> DeployResult | None:
    """Observe, plan, print, execute (unless ``dry_run``); AWS errors become one line.

    Returns what was done, or ``None`` for a dry run.
    """
    from coldbrew.deploy.aws import aws_errors
    from coldbrew.deploy.execute import execute_plan
    from coldbrew.deploy.observe import observe
    from coldbrew.deploy.plan import plan_deploy

    try:
        observed = observe(spec, clients)
    except aws_errors() as exc:
        raise DeployError(
            f"reading the account failed: {exc} (check the AWS credentials and region, "
            "or use --local)"
        ) from None
    plan = plan_deploy(spec, observed)
    if plan.notes:
        console.print("[bold]found[/]:")
        for note in plan.notes:
            print_plain(console, f"  {note}")
    if dry_run:
        console.print(f"[bold]plan[/] (--dry-run: nothing is changed), {len(plan.calls)} calls:")
        for call in plan.calls:
            print_plain(console, f"  {call.describe()}")
        return None
    console.print(f"[bold]calls[/] ({len(plan.calls)}):")
    result = execute_plan(plan, clients, echo=lambda line: print_plain(console, f"  {line}"))
    if not plan.calls:
        print_plain(console, "  none: everything is as this deploy wants it")
    return result


def print_summary(
    console: Console, spec: DeploySpec, result: DeployResult, clients: DeployClients
) -> None:
    """Where the function now is: alias, version, URL, and the capacity put on the alias."""
    print_plain(
        console,
        f"deployed {spec.function_name}: alias {spec.alias} -> version {result.version}; "
        f"function URL ({spec.url_auth}): {result.url}",
    )
    if spec.provisioned_concurrency is not None:
        if clients.provisioned.applied:
            print_plain(
                console,
                f"provisioned concurrency: {spec.provisioned_concurrency} requested on "
                f"{spec.alias}; Lambda allocates it over the next minutes",
            )
        else:
            print_plain(
                console,
                f"provisioned concurrency: {spec.provisioned_concurrency} on {spec.alias} was "
                "recorded by an in-memory fake, NOT applied: moto has no "
                "provisioned-concurrency API",
            )
    if result.schedule is not None:
        deleted = result.schedule.deleted
        print_plain(
            console,
            f"schedule on {result.schedule.resource_id}: {len(result.schedule.put)} scheduled "
            f"actions put ({', '.join(result.schedule.put)}), {len(deleted)} stale deleted"
            + (f" ({', '.join(deleted)})" if deleted else ""),
        )
