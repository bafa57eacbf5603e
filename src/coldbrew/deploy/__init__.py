"""``coldbrew deploy``: a built artifact onto Lambda (or onto moto, with ``--local``).

Plan, then execute, as the builder does:

* :mod:`coldbrew.deploy.plan` (pure): a frozen :class:`DeploySpec`
  (:mod:`coldbrew.deploy.spec`) and the :class:`ObservedState` of the account
  (:mod:`coldbrew.deploy.observed_state`) give the ordered calls
  (:mod:`coldbrew.deploy.calls`), each one line.
* :mod:`coldbrew.deploy.built_artifact`: the zip to deploy, checked against its
  build report.
* :mod:`coldbrew.deploy.observe` reads that state through the clients.
* :mod:`coldbrew.deploy.execute` makes the calls, waiting on Lambda with an
  injected clock, and fetches the deployed code back to check its bytes.
* :mod:`coldbrew.deploy.clients`: the ports (Protocols over boto3's calls,
  provisioned concurrency behind its own port with an in-memory fake).
* :mod:`coldbrew.deploy.aws` creates boto3 clients (the only boto3 import);
  :mod:`coldbrew.deploy.local_cloud` runs moto as a local server for ``--local``.

Nothing here is imported by ``import coldbrew``.
"""
