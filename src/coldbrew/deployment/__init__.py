"""One description of a deployment, validated once, and each target's limits as data.

Every path that describes or checks a deployment (the CLI, the CDK app, the
boto3 and Cloud Functions planners, the emulators, the tuner) reads a target's
limits from here: :mod:`.aws_lambda` for AWS Lambda, :mod:`.gcf` for Google
Cloud Functions (2nd gen, Cloud Run functions). No other module writes a
target's numbers down.

Imported by the CLI and infra only, never by the runtime inside artifacts.
"""
