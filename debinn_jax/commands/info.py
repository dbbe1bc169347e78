"""``debinn info``: print the summary of a network spec."""

from __future__ import annotations

import argparse


def parse_hidden(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden expects comma-separated integers such as 85,64, got {text!r}"
        ) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="print the summary of a network spec")
    p.add_argument("--inputs", type=int, default=2, help="number of input features (default 2)")
    p.add_argument("--hidden", type=parse_hidden, default=(16,), help="hidden sizes, e.g. 85,64")
    p.add_argument("--classes", type=int, default=2, help="number of classes (default 2)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from debinn_jax.network import NetworkSpec, summary

    print(summary(NetworkSpec(args.inputs, args.hidden, args.classes)))
    return 0
