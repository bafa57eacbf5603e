"""Run a handler over smoke events and record every file it touched.

Executed by the *target* interpreter as a script (``python3.12 -I -B
smoke_probe.py TASK_ROOT EVENTS OUT``), never imported by coldbrew: it uses
the standard library only, and puts nothing but the task root on sys.path.

``smoke_probe.py TASK_ROOT REQUESTS OUT gcf FRAMEWORK_DIR ENTRY TARGET`` probes
a Cloud Functions source instead: functions-framework is imported from
FRAMEWORK_DIR (outside the artifact, as the buildpack installs it), builds
its app over TASK_ROOT/ENTRY (which loads the function, as an instance start
does) and each request goes through the app's WSGI stack with the test
client; the task root reaches sys.path only as the framework appends it.

Touched means any of: opened through Python (the ``open`` audit event, which
covers source, bytecode and data files), named by a loaded module's
``__file__`` or ``__cached__``, or mapped into the process (``/proc/self/maps``:
extension modules and the native libraries they pull in). Files read by native
code without mapping them (the ONNX model, tokenizer.json) are invisible here;
the rules keep them explicitly.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


class _Context:
    """The parts of Lambda's context object handlers commonly read."""

    aws_request_id = "smoke-probe"
    function_name = "smoke-probe"
    memory_limit_in_mb = 1024

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def _mapped_files() -> set[str]:
    paths: set[str] = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith("/"):
                    paths.add(fields[5].strip())
    except OSError:
        pass  # no /proc: module files and opens still count
    return paths


def _lambda_results(root: str, events: list[Any]) -> list[Any]:
    sys.path.insert(0, root)
    import lambda_function  # type: ignore[import-not-found]

    results: list[Any] = []
    for event in events:
        try:
            results.append({"ok": True, "value": lambda_function.handler(event, _Context())})
        except Exception as exc:  # the comparison needs failures as data
            results.append({"ok": False, "value": f"{type(exc).__name__}: {exc}"})
    return results


def _gcf_results(root: str, requests: list[Any], framework: str, entry: str, target: str) -> Any:
    sys.path.insert(0, framework)
    import functions_framework

    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target, os.path.join(root, entry), "http"
    )
    client = app.test_client()
    results: list[Any] = []
    for request in requests:
        response = client.open(
            request["path"],
            method=request["method"],
            data=request["body"].encode(),
            # A fixed execution id: two runs over equivalent trees answer byte for byte.
            headers={"Content-Type": "application/json", "Function-Execution-Id": "smoke"},
        )
        # A 5xx is the function failing (the framework answers a raised exception with 500).
        results.append(
            {
                "ok": response.status_code < 500,
                "value": {
                    "statusCode": response.status_code,
                    "contentType": response.headers.get("Content-Type"),
                    "allow": response.headers.get("Allow"),
                    "body": response.get_data(as_text=True),
                },
            }
        )
    return results


def main(argv: list[str]) -> int:
    """Probe the handler in ``argv[1]`` with the events in ``argv[2]``; write ``argv[3]``."""
    root, events_path, out_path = (os.path.realpath(a) for a in argv[1:4])
    with open(events_path, encoding="utf-8") as handle:
        events: list[Any] = json.load(handle)
    opened: set[str] = set()

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and isinstance(args[0], str):
            opened.add(args[0])

    sys.addaudithook(audit)
    os.chdir(root)
    results: list[Any] = []
    init_error = None
    try:
        if argv[4:5] == ["gcf"]:
            results = _gcf_results(root, events, *argv[5:8])
        else:
            results = _lambda_results(root, events)
    except BaseException as exc:  # an import failure is the finding, not a crash
        init_error = f"{type(exc).__name__}: {exc}"
    touched = opened | _mapped_files()
    for module in list(sys.modules.values()):
        for attribute in ("__file__", "__cached__"):
            value = getattr(module, attribute, None)
            if isinstance(value, str):
                touched.add(value)
    prefix = root + os.sep
    relative = sorted(
        os.path.relpath(path, root)
        for path in {os.path.realpath(p) for p in touched}
        if path.startswith(prefix)
    )
    report = {
        "python": ".".join(str(part) for part in sys.version_info[:3]),
        "init_error": init_error,
        "results": results,
        "touched": relative,
    }
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
