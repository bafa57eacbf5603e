"""The slimming builder: resolve -> plan (pure) -> execute -> bytecode -> zip -> report.

Use :func:`coldbrew.artifact.builder.build_artifact`; the CLI is ``coldbrew build``.
"""
