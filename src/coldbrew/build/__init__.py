"""The slimming builder: resolve -> plan (pure) -> execute -> bytecode -> zip -> report.

Use :func:`coldbrew.build.builder.build_artifact`; the CLI is ``coldbrew build``.
"""
