"""The ``leadscore`` command line.

Each sub-command lives in its own module, which exposes ``register(subparsers)`` to add
its parser and set ``func`` (a callable taking the parsed arguments and returning an exit
code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from leadscore import __version__


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every sub-command registered."""
    from leadscore import generate, monitor, pipeline, publish, registry, train

    parser = argparse.ArgumentParser(
        prog="leadscore",
        description="SQL-first predictive lead and account scoring on dbt + DuckDB.",
    )
    parser.add_argument("--version", action="version", version=f"leadscore {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (generate, pipeline, train, registry, monitor, publish):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
