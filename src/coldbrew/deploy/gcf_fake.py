"""A local fake of the Google APIs a Cloud Functions deploy and schedule call.

::

    with FakeGoogleCloud() as fake:
        port = google_gcf(api_endpoint=fake.endpoint, poll_s=0)
        ...
        fake.writes()            # [("POST", "/v2/.../functions"), ...]
        fake.fail_next("create_function", 403, "PERMISSION_DENIED", "denied")

A threaded HTTP/1.1 server on 127.0.0.1 speaking just enough JSON REST for
Google's own clients (REST transport, anonymous credentials,
``api_endpoint`` pointed here):

- Cloud Functions v2: ``functions:generateUploadUrl``, the signed upload URL
  (``PUT``, ``application/zip``, refused with an Authorization header as a
  signed URL is), ``GET``/``POST``/``PATCH`` functions (the update mask
  honoured field by field), and long-running operations that are done after
  ``polls`` reads, with the Function as their response (``serviceConfig.uri``
  and ``.service`` filled in).
- Cloud Run v2: ``getIamPolicy``/``setIamPolicy`` on the function's service.
- Cloud Scheduler v1: jobs list, create, patch, delete.

It does not build anything (no Cloud Build, no buildpack, the source is only
stored), serves no function traffic at its URL, checks no credentials or
IAM permissions (a 403 comes only from :meth:`FakeGoogleCloud.fail_next`),
runs no scheduled job, and validates a request only as far as the checks
below; field formats it does not check are accepted.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

_FUNCTIONS = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+)/functions$")
_FUNCTION = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/functions/[^/:]+)$")
_UPLOAD_URL = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+)/functions:generateUploadUrl$")
_OPERATION = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/operations/[^/]+)$")
_RUN_IAM = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/services/[^/:]+):(get|set)IamPolicy$")
_JOBS = re.compile(r"^/v1/(projects/[^/]+/locations/[^/]+)/jobs$")
_JOB = re.compile(r"^/v1/(projects/[^/]+/locations/[^/]+/jobs/[^/:]+)$")
_UPLOAD = re.compile(r"^/upload/([0-9a-f]+)$")
_FUNCTION_TYPE = "type.googleapis.com/google.cloud.functions.v2.Function"


def _camel(path: str) -> list[str]:
    return [re.sub(r"_([a-z])", lambda m: m[1].upper(), part) for part in path.split(".")]


class GoogleApiError(Exception):
    """An error response: HTTP status, gRPC status name and message."""

    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


class FakeGoogleCloud:
    """The fake's state and its server; a context manager that starts and stops it."""

    def __init__(self, *, polls: int = 2) -> None:
        self.polls = polls
        self.functions: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.iam: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        #: Each PATCH's ``updateMask`` paths, as sent.
        self.update_masks: list[list[str]] = []
        self._operations: dict[str, list[Any]] = {}
        self._failures: dict[str, GoogleApiError] = {}
        self._operation_failure: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``: the clients' ``api_endpoint``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeGoogleCloud:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, operation: str, code: int, status: str, message: str) -> None:
        """Answer the next ``operation`` (``create_function``, ``create_job``...) with an error."""
        self._failures[operation] = GoogleApiError(code, status, message)

    def fail_next_operation(self, code: int, message: str) -> None:
        """End the next function operation with an error (a failed build, say), not a result.

        ``code`` is the ``google.rpc.Code`` number (3: INVALID_ARGUMENT, 9: FAILED_PRECONDITION).
        """
        self._operation_failure = {"code": code, "message": message}

    def writes(self) -> list[tuple[str, str]]:
        """Every request but reads (``GET``), in order."""
        return [r for r in self.requests if r[0] != "GET"]

    # The API, one method per operation: (status, JSON body) or GoogleApiError.

    def handle(self, method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
        routes = (
            ("POST", _UPLOAD_URL, "generate_upload_url", self._upload_url),
            ("GET", _FUNCTION, "get_function", self._get_function),
            ("POST", _FUNCTIONS, "create_function", self._create_function),
            ("PATCH", _FUNCTION, "update_function", self._update_function),
            ("GET", _OPERATION, "get_operation", self._get_operation),
            ("GET", _RUN_IAM, "get_iam_policy", self._get_iam),
            ("POST", _RUN_IAM, "set_iam_policy", self._set_iam),
            ("GET", _JOBS, "list_jobs", self._list_jobs),
            ("POST", _JOBS, "create_job", self._create_job),
            ("PATCH", _JOB, "update_job", self._update_job),
            ("DELETE", _JOB, "delete_job", self._delete_job),
        )
        for verb, pattern, operation, route in routes:
            match = pattern.match(path)
            if verb == method and match:
                failure = self._failures.pop(operation, None)
                if failure is not None:
                    raise failure
                with self._lock:
                    return route(match[1], query, body)
        raise GoogleApiError(404, "NOT_FOUND", f"{method} {path} is not in this fake")

    def _upload_url(self, parent: str, query: Mapping[str, str], body: Any) -> Any:
        token = hashlib.sha256(f"{parent}{next(self._ids)}".encode()).hexdigest()[:32]
        return {
            "uploadUrl": f"{self.endpoint}/upload/{token}",
            "storageSource": {"bucket": "gcf-v2-uploads-fake", "object": f"{token}.zip"},
        }

    def put_upload(self, token: str, headers: Mapping[str, str], data: bytes) -> None:
        """The signed URL: ``application/zip`` only, and no Authorization header."""
        if headers.get("authorization"):
            raise GoogleApiError(400, "INVALID_ARGUMENT", "signed URLs take no Authorization")
        if headers.get("content-type") != "application/zip":
            raise GoogleApiError(403, "SignatureDoesNotMatch", "content-type must be zip")
        self.uploads[f"{token}.zip"] = data

    def _get_function(self, name: str, query: Mapping[str, str], body: Any) -> Any:
        if name not in self.functions:
            raise GoogleApiError(404, "NOT_FOUND", f"Resource '{name}' was not found")
        return self.functions[name]

    def _check_source(self, function: Mapping[str, Any]) -> None:
        source = function.get("buildConfig", {}).get("source", {}).get("storageSource", {})
        if source.get("object") not in self.uploads:
            raise GoogleApiError(
                400, "INVALID_ARGUMENT", "buildConfig.source: the storage object was not uploaded"
            )
        service = function.get("serviceConfig", {})
        if int(service.get("maxInstanceRequestConcurrency", 1)) > 1 and (
            float(service.get("availableCpu") or 0) < 1
        ):
            raise GoogleApiError(400, "INVALID_ARGUMENT", "concurrency > 1 needs 1 vCPU or more")

    def _create_function(self, parent: str, query: Mapping[str, str], body: Any) -> Any:
        name = f"{parent}/functions/{query.get('functionId', '')}"
        if name in self.functions:
            raise GoogleApiError(409, "ALREADY_EXISTS", f"Function {name} already exists")
        self._check_source(body)
        function = dict(body, name=name, state="ACTIVE")
        project, region, short = name.split("/")[1], name.split("/")[3], name.split("/")[5]
        service = dict(function.get("serviceConfig", {}))
        service["service"] = f"{parent}/services/{short}"
        number = int(hashlib.sha256(project.encode()).hexdigest()[:10], 16) % 10**12
        service["uri"] = f"https://{short}-{number}.{region}.run.app"
        function["serviceConfig"] = service
        function["url"] = service["uri"]
        self.functions[name] = function
        self.iam.setdefault(service["service"], {"etag": "BwY="})
        return self._operation(parent, function)

    def _update_function(self, name: str, query: Mapping[str, str], body: Any) -> Any:
        function = json.loads(json.dumps(self._get_function(name, query, body)))
        mask = [p for p in query.get("updateMask", "").split(",") if p]
        self.update_masks.append(mask)
        if not mask:
            raise GoogleApiError(400, "INVALID_ARGUMENT", "update_mask is required")
        for path in mask:
            keys = _camel(path)
            source: Any = body
            for key in keys:
                source = source.get(key) if isinstance(source, dict) else None
            target = function
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            if source is None:
                target.pop(keys[-1], None)
            else:
                target[keys[-1]] = source
        self._check_source(function)
        self.functions[name] = function
        return self._operation(name.rsplit("/functions/", 1)[0], function)

    def _operation(self, parent: str, function: Mapping[str, Any]) -> Any:
        name = f"{parent}/operations/operation-{next(self._ids)}"
        self._operations[name] = [self.polls, function, self._operation_failure]
        self._operation_failure = None
        return {"name": name, "done": False}

    def _get_operation(self, name: str, query: Mapping[str, str], body: Any) -> Any:
        if name not in self._operations:
            raise GoogleApiError(404, "NOT_FOUND", f"operation {name} not found")
        state = self._operations[name]
        state[0] -= 1
        if state[0] > 0:
            return {"name": name, "done": False}
        if state[2] is not None:
            return {"name": name, "done": True, "error": state[2]}
        return {"name": name, "done": True, "response": {"@type": _FUNCTION_TYPE, **state[1]}}

    def _get_iam(self, service: str, query: Mapping[str, str], body: Any) -> Any:
        if service not in self.iam:
            raise GoogleApiError(404, "NOT_FOUND", f"service {service} not found")
        return self.iam[service]

    def _set_iam(self, service: str, query: Mapping[str, str], body: Any) -> Any:
        current = self._get_iam(service, query, body)
        policy = dict(body.get("policy", {}))
        if policy.get("etag") and policy["etag"] != current.get("etag"):
            raise GoogleApiError(409, "ABORTED", "etag mismatch: read the policy again")
        policy["etag"] = hashlib.sha256(json.dumps(policy).encode()).hexdigest()[:8]
        self.iam[service] = policy
        return policy

    def _list_jobs(self, parent: str, query: Mapping[str, str], body: Any) -> Any:
        jobs = [j for n, j in sorted(self.jobs.items()) if n.startswith(parent + "/jobs/")]
        return {"jobs": jobs}

    def _create_job(self, parent: str, query: Mapping[str, str], body: Any) -> Any:
        name = body.get("name", "")
        if not name.startswith(parent + "/jobs/"):
            raise GoogleApiError(400, "INVALID_ARGUMENT", f"job name {name!r} not under {parent}")
        if name in self.jobs:
            raise GoogleApiError(409, "ALREADY_EXISTS", f"Job {name} already exists")
        self.jobs[name] = dict(body, state="ENABLED")
        return self.jobs[name]

    def _update_job(self, name: str, query: Mapping[str, str], body: Any) -> Any:
        if name not in self.jobs:
            raise GoogleApiError(404, "NOT_FOUND", f"Job {name} not found")
        self.update_masks.append([p for p in query.get("updateMask", "").split(",") if p])
        self.jobs[name] = dict(self.jobs[name], **body)
        return self.jobs[name]

    def _delete_job(self, name: str, query: Mapping[str, str], body: Any) -> Any:
        if self.jobs.pop(name, None) is None:
            raise GoogleApiError(404, "NOT_FOUND", f"Job {name} not found")
        return {}


def _handler(fake: FakeGoogleCloud) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the fake's requests are in ``fake.requests``."""

        def _serve(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
            fake.requests.append((self.command, url.path))
            try:
                upload = _UPLOAD.match(url.path)
                if upload and self.command == "PUT":
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    fake.put_upload(upload[1], headers, data)
                    result: Any = {}
                else:
                    body = json.loads(data) if data else {}
                    result = fake.handle(self.command, url.path, query, body)
                status = 200
            except GoogleApiError as error:
                status = error.code
                result = {
                    "error": {"code": error.code, "message": error.message, "status": error.status}
                }
            except ValueError as error:
                status = 400
                result = {"error": {"code": 400, "message": str(error), "status": "BAD_REQUEST"}}
            out = json.dumps(result).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server's names)

    return Handler
