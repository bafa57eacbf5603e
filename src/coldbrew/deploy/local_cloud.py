"""A local AWS for ``coldbrew deploy --local``: moto, as a server in this process.

::

    with LocalCloud(region="us-east-1") as cloud:
        cloud.endpoint          # "http://127.0.0.1:PORT": usable with `aws --endpoint-url`
        clients = cloud.clients()
        role = cloud.ensure_role("coldbrew-embed")

moto's server (``moto.server.ThreadedMotoServer``) needs Flask (``pip install
'moto[server]'``). Without it, moto runs in-process (``mock_aws``): the
deploy works the same, but there is no endpoint for other tools, and
:attr:`LocalCloud.note` says so. moto has no provisioned-concurrency API, so
:meth:`LocalCloud.clients` gives the in-memory port instead.
"""

from __future__ import annotations

import json
import logging
import socket
import warnings
from types import TracebackType
from typing import Any

from coldbrew.deploy import aws
from coldbrew.deploy.clients import DeployClients, InMemoryProvisionedConcurrency, is_not_found
from coldbrew.errors import DeployError

#: moto accepts any credentials; these are never real ones.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class LocalCloud:
    """moto on ``host:port`` (0: any free port) for the life of the context."""

    def __init__(self, *, region: str = "us-east-1", host: str = "127.0.0.1", port: int = 0):
        self.region = region
        self._host = host
        self._port = port
        self._server: Any = None
        self._mock: Any = None
        #: ``http://HOST:PORT`` of the moto server; None when moto runs in-process.
        self.endpoint: str | None = None
        #: What kind of local cloud this is, in words (printed by the CLI).
        self.note = ""
        self.provisioned = InMemoryProvisionedConcurrency()

    def start(self) -> None:
        """Start moto: a server when its extras are installed, else in-process."""
        try:
            import moto
        except ImportError:
            raise DeployError("--local needs moto: pip install 'moto[server]'") from None
        try:
            with warnings.catch_warnings():  # moto warns before failing; the note says it all
                warnings.simplefilter("ignore")
                from moto.server import ThreadedMotoServer
        except ImportError as exc:  # Flask and friends: moto's [server] extra
            self._mock = moto.mock_aws()
            self._mock.start()
            self.note = (
                f"moto {moto.__version__} in-process ({exc.name} is missing for its server: "
                "pip install 'moto[server]'), so there is no endpoint for `aws --endpoint-url`"
            )
            return
        if self._port:
            _check_free(self._host, self._port)
        # The server logs every request through werkzeug; the deploy prints its own calls.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.note = f"moto {moto.__version__} server at {self.endpoint}"

    def stop(self) -> None:
        """Stop moto; everything deployed to it is gone. Idempotent."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self.endpoint = None

    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` pointed at moto, with dummy credentials."""
        return aws.client(
            service, region=self.region, endpoint_url=self.endpoint, credentials=DUMMY_CREDENTIALS
        )

    def clients(self) -> DeployClients:
        """The deploy's clients against moto; provisioned concurrency is the in-memory fake."""
        return aws.boto3_clients(
            region=self.region,
            endpoint_url=self.endpoint,
            credentials=DUMMY_CREDENTIALS,
            provisioned=self.provisioned,
        )

    def ensure_role(self, name: str) -> tuple[str, bool]:
        """The ARN of IAM role ``name`` (Lambda may assume it), and whether it was created now."""
        iam = self.client("iam")
        try:
            return str(iam.get_role(RoleName=name)["Role"]["Arn"]), False
        except Exception as exc:
            if not is_not_found(exc):
                raise
        created = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY),
            Description="coldbrew deploy --local: the function's execution role (in moto)",
        )
        return str(created["Role"]["Arn"]), True


def _check_free(host: str, port: int) -> None:
    # moto's server thread dies silently on a taken port and start() would wait forever.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DeployError(
                f"cannot run moto on {host}:{port}: {exc.strerror}; pass --moto-port 0 for any "
                "free port"
            ) from None
