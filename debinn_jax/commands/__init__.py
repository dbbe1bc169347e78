"""Sub-commands of the ``debinn`` command line; each module exposes ``register(subparsers)``.

A registered sub-parser sets ``func`` (``args -> int`` exit code) with ``set_defaults``.
"""
