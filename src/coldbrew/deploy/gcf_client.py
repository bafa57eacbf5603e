"""The Cloud Functions port and its adapter over Google's own clients.

:class:`GcfPort` is what :mod:`coldbrew.deploy.gcf_execute` calls, in our
plain types; :class:`GoogleGcf` implements it with ``google-cloud-functions``
(``functions_v2.FunctionServiceClient``) and, for the invoker binding,
``google-cloud-run`` (``run_v2.ServicesClient``): a 2nd gen function is
invoked through its Cloud Run service, and ``roles/run.invoker`` on that
service is what ``gcloud functions add-invoker-policy-binding`` sets.
Both use the REST transport. :func:`google_gcf` makes them with default
credentials, or anonymous ones against ``api_endpoint`` (the local fake,
:mod:`coldbrew.deploy.gcf_fake`).

Service errors become one-line :class:`~coldbrew.errors.DeployError`\\ s that
name the fix (:func:`deploy_error`).
"""

from __future__ import annotations

import importlib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from coldbrew.deploy.gcf_plan import ObservedFunction
from coldbrew.deploy.gcf_spec import (
    SOURCE_LABEL,
    GcfFunctionSpec,
    cpu_text,
    memory_text,
    source_label,
)
from coldbrew.errors import DeployError

INVOKER_ROLE = "roles/run.invoker"
ALL_USERS = "allUsers"
_MEMORY_UNITS = {"": 1 / 1024 / 1024, "k": 1 / 1024, "M": 1, "G": 1024, "Mi": 1, "Gi": 1024}

#: A progress callback: a line to show while an operation runs.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Upload:
    """Where to PUT the zip, and the storage source the function is built from."""

    url: str
    storage_source: Mapping[str, str]


class GcfPort(Protocol):
    """The calls a Cloud Functions deploy makes, in coldbrew's types."""

    def get_function(self, spec: GcfFunctionSpec) -> ObservedFunction | None:
        """The function as deployed, or ``None`` when there is none."""

    def generate_upload_url(self, spec: GcfFunctionSpec) -> Upload:
        """A signed URL to PUT the source to."""

    def put_source(self, upload: Upload, data: bytes) -> None:
        """PUT the zip (``application/zip``, no Authorization header)."""

    def create_function(
        self, spec: GcfFunctionSpec, upload: Upload, progress: Progress
    ) -> ObservedFunction:
        """Create the function and wait until its operation is done."""

    def update_function(
        self,
        spec: GcfFunctionSpec,
        upload: Upload | None,
        update_mask: tuple[str, ...],
        progress: Progress,
    ) -> ObservedFunction:
        """Update only ``update_mask`` and wait until its operation is done."""

    def set_public(self, service: str, public: bool) -> None:
        """Grant (or revoke) ``roles/run.invoker`` to ``allUsers`` on the Cloud Run service."""


def memory_mb_of(text: str) -> int | None:
    """MB in ``available_memory`` as reported (``256M``, ``1Gi``, ``1024Mi``)."""
    for unit in sorted(_MEMORY_UNITS, key=len, reverse=True):
        number = text[: len(text) - len(unit)] if unit else text
        if text.endswith(unit) and number.replace(".", "", 1).isdigit():
            return round(float(number) * _MEMORY_UNITS[unit])
    return None


def deploy_error(
    error: Exception, doing: str, fixes_by_code: Mapping[int, str] | None = None
) -> DeployError:
    """A Google API error as one line that names the fix (``fixes_by_code`` first)."""
    code = getattr(error, "code", None)
    message = " ".join(str(getattr(error, "message", error)).split())
    fixes = {
        400: "fix the setting it names",
        401: "log in with `gcloud auth application-default login`",
        403: "the deploying identity needs roles/cloudfunctions.developer and "
        "roles/iam.serviceAccountUser on the runtime service account (and "
        "roles/run.admin for --allow-unauthenticated), and the Cloud Functions, "
        "Cloud Build and Cloud Run APIs enabled in --project",
        404: "check --project and --region, and that the Cloud Functions API is enabled",
        409: "another operation is running on the function: wait for it and deploy again",
        429: "quota exceeded: wait a minute and deploy again, or raise the quota",
    }
    fixes.update(fixes_by_code or {})
    fix = fixes.get(code if isinstance(code, int) else -1, "see the message; deploy again")
    return DeployError(f"Cloud Functions {doing} failed ({code}): {message}: {fix}")


@contextmanager
def api_errors(doing: str, fixes_by_code: Mapping[int, str] | None = None) -> Iterator[None]:
    """Turn Google API errors raised inside into :func:`deploy_error`."""
    from google.api_core import exceptions

    try:
        yield
    except exceptions.GoogleAPIError as error:
        raise deploy_error(error, doing, fixes_by_code) from None


class GoogleGcf:
    """:class:`GcfPort` over the real v2 clients (REST transport)."""

    def __init__(
        self,
        functions: Any,
        run: Any,
        *,
        poll_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._functions = functions
        self._run = run
        self._poll_s = poll_s
        self._sleep = sleep

    def get_function(self, spec: GcfFunctionSpec) -> ObservedFunction | None:
        from google.api_core import exceptions

        with api_errors("get_function"):
            try:
                function = self._functions.get_function(name=spec.function_name)
            except exceptions.NotFound:
                return None
            return self._observe(function)

    def generate_upload_url(self, spec: GcfFunctionSpec) -> Upload:
        with api_errors("generate_upload_url"):
            response = self._functions.generate_upload_url(request={"parent": spec.parent})
        source = response.storage_source
        return Upload(
            response.upload_url,
            {"bucket": source.bucket, "object_": source.object_},
        )

    def put_source(self, upload: Upload, data: bytes) -> None:
        request = urllib.request.Request(
            upload.url, data=data, method="PUT", headers={"Content-Type": "application/zip"}
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise DeployError(
                f"uploading the source failed ({error.code} {error.reason}): deploy again "
                "(the upload URL expires after a few minutes)"
            ) from None
        except OSError as error:
            raise DeployError(f"uploading the source failed ({error}): deploy again") from None

    def create_function(
        self, spec: GcfFunctionSpec, upload: Upload, progress: Progress
    ) -> ObservedFunction:
        with api_errors("create_function"):
            operation = self._functions.create_function(
                parent=spec.parent, function=self._function(spec, upload), function_id=spec.name
            )
            return self._wait(operation, progress)

    def update_function(
        self,
        spec: GcfFunctionSpec,
        upload: Upload | None,
        update_mask: tuple[str, ...],
        progress: Progress,
    ) -> ObservedFunction:
        field_mask_pb2: Any = importlib.import_module("google.protobuf.field_mask_pb2")
        with api_errors("update_function"):
            operation = self._functions.update_function(
                function=self._function(spec, upload),
                update_mask=field_mask_pb2.FieldMask(paths=list(update_mask)),
            )
            return self._wait(operation, progress)

    def set_public(self, service: str, public: bool) -> None:
        policy_pb2: Any = importlib.import_module("google.iam.v1.policy_pb2")
        with api_errors("set_iam_policy on the Cloud Run service"):
            policy = self._run.get_iam_policy(request={"resource": service})
            bindings = [b for b in policy.bindings if b.role != INVOKER_ROLE]
            members = [
                m
                for b in policy.bindings
                if b.role == INVOKER_ROLE
                for m in b.members
                if m != ALL_USERS
            ]
            if public:
                members.append(ALL_USERS)
            if members:
                bindings.append(policy_pb2.Binding(role=INVOKER_ROLE, members=members))
            new = policy_pb2.Policy(bindings=bindings, etag=policy.etag, version=policy.version)
            self._run.set_iam_policy(request={"resource": service, "policy": new})

    def _wait(self, operation: Any, progress: Progress) -> ObservedFunction:
        name = operation.operation.name
        polls = 0
        started = time.monotonic()
        while not operation.done():
            polls += 1
            progress(f"waiting on {name.rsplit('/', 1)[-1]}: {time.monotonic() - started:.0f} s")
            self._sleep(self._poll_s)
        function = operation.result()
        progress(f"{name.rsplit('/', 1)[-1]} done after {polls} polls")
        return self._observe(function)

    def _function(self, spec: GcfFunctionSpec, upload: Upload | None) -> Any:
        from google.cloud import functions_v2

        build = functions_v2.BuildConfig(runtime=spec.runtime, entry_point=spec.entry_point)
        if upload is not None:
            build.source = functions_v2.Source(
                storage_source=functions_v2.StorageSource(**upload.storage_source)
            )
        service = functions_v2.ServiceConfig(
            available_memory=memory_text(spec.memory_mb),
            available_cpu=cpu_text(spec.cpu),
            timeout_seconds=spec.timeout_s,
            max_instance_request_concurrency=spec.concurrency,
            min_instance_count=spec.min_instances,
            max_instance_count=spec.max_instances,
            ingress_settings=getattr(functions_v2.ServiceConfig.IngressSettings, spec.ingress),
            environment_variables=spec.environment,
        )
        return functions_v2.Function(
            name=spec.function_name,
            environment=functions_v2.Environment.GEN_2,
            build_config=build,
            service_config=service,
            labels={SOURCE_LABEL: source_label(spec.source_sha256)} if upload else {},
        )

    def _observe(self, function: Any) -> ObservedFunction:
        build, service = function.build_config, function.service_config
        memory = memory_mb_of(service.available_memory)
        fields: dict[str, object] = {
            "build_config.runtime": build.runtime,
            "build_config.entry_point": build.entry_point,
            "service_config.available_memory": memory_text(memory) if memory else "",
            "service_config.available_cpu": cpu_text(float(service.available_cpu or 0)),
            "service_config.timeout_seconds": service.timeout_seconds,
            "service_config.max_instance_request_concurrency": (
                service.max_instance_request_concurrency
            ),
            "service_config.min_instance_count": service.min_instance_count,
            "service_config.max_instance_count": service.max_instance_count,
            "service_config.ingress_settings": service.ingress_settings.name,
            "service_config.environment_variables": dict(
                sorted(service.environment_variables.items())
            ),
        }
        return ObservedFunction(
            fields=fields,
            labels=dict(function.labels),
            uri=service.uri or function.url,
            service=service.service,
            public=self._public(service.service),
            state=function.state.name,
        )

    def _public(self, service: str) -> bool:
        if not service:
            return False
        with api_errors("get_iam_policy on the Cloud Run service"):
            policy = self._run.get_iam_policy(request={"resource": service})
        return any(b.role == INVOKER_ROLE and ALL_USERS in b.members for b in policy.bindings)


def client_kwargs(api_endpoint: str | None) -> dict[str, Any]:
    """Keyword arguments for any Google client: REST, and against ``api_endpoint`` (a
    local fake) anonymous credentials; otherwise default credentials."""
    from google.auth.credentials import AnonymousCredentials

    kwargs: dict[str, Any] = {"transport": "rest"}
    if api_endpoint:
        kwargs["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
        kwargs["client_options"] = {"api_endpoint": api_endpoint}
    return kwargs


def google_gcf(api_endpoint: str | None = None, *, poll_s: float | None = None) -> GoogleGcf:
    """The real clients: default credentials, or anonymous ones against ``api_endpoint``.

    Operations are polled every ``poll_s`` seconds (default 2 s; 0.05 s against
    ``api_endpoint``, a local fake that answers at once).
    """
    try:
        from google.cloud import functions_v2, run_v2
    except ImportError:
        raise DeployError(
            "deploying to Cloud Functions needs Google's clients: pip install 'coldbrew[gcp]'"
        ) from None
    kwargs = client_kwargs(api_endpoint)
    try:
        functions = functions_v2.FunctionServiceClient(**kwargs)
        run = run_v2.ServicesClient(**kwargs)
    except Exception as error:  # google.auth's DefaultCredentialsError and kin
        raise DeployError(
            f"no Google credentials ({' '.join(str(error).split())[:200]}): "
            "run `gcloud auth application-default login`"
        ) from None
    if poll_s is None:
        poll_s = 0.05 if api_endpoint else 2.0
    return GoogleGcf(functions, run, poll_s=poll_s)
