"""``debinn info``: print the summary of a network spec."""

from __future__ import annotations

import argparse

from debinn_jax.commands.common import add_command, parse_hidden


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` sub-command."""
    p = add_command(sub, "info", help="print the summary of a network spec", run=run)
    p.add_argument("--inputs", type=int, default=2, help="number of input features (default 2)")
    p.add_argument("--hidden", type=parse_hidden, default=(16,), help="hidden sizes, e.g. 85,64")
    p.add_argument("--classes", type=int, default=2, help="number of classes (default 2)")


def run(args: argparse.Namespace) -> int:
    from debinn_jax.network import NetworkSpec, summary

    print(summary(NetworkSpec(args.inputs, args.hidden, args.classes)))
    return 0
