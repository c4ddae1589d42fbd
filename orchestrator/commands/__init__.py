"""The ``switchboard`` subcommands: one module per command group, each with ``register(subparsers)``.

A new module here is picked up by the CLI with no other change.
"""
