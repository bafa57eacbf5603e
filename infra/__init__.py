"""coldbrew's AWS CDK app: deploys an artifact built by ``coldbrew build``.

Run it through the CDK CLI from the repository root (``npx cdk synth``), which
uses ``cdk.json``'s ``"app": ".venv/bin/python -m infra.app"``. Deployment
settings come from ``coldbrew:`` context keys; see :mod:`infra.settings`.
"""
