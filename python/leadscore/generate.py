"""``leadscore generate``: write a simulated B2B world (raw tables plus ground truth).

See ``docs/synthetic_world.md`` for the world, its parameters and the injected bad rows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from leadscore.world import generate_world
from leadscore.world.writer import FORMATS

__all__ = ["generate_world", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` sub-command."""
    parser = subparsers.add_parser(
        "generate",
        help="simulate a B2B world and write its six raw tables and ground truth",
        description=(
            "Simulate accounts, buying committees, activities, touchpoints, signals and "
            "opportunities from a known hazard; write the raw tables (with counted bad rows), "
            "the ground truth and manifest.json."
        ),
    )
    parser.add_argument(
        "--leads", type=_lead_count, default=5000, help="number of leads (default: 5000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("seeds/demo_world"),
        help="output folder (default: seeds/demo_world)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="csv", dest="fmt", help="file format (default: csv)"
    )
    parser.set_defaults(func=run)


def _lead_count(text: str) -> int:
    """Argparse type: an integer of at least 10."""
    value = int(text)
    if value < 10:
        raise argparse.ArgumentTypeError("needs at least 10 leads")
    return value


def _stderr(message: str) -> None:
    """Progress lines go to stderr so stdout stays a summary."""
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Generate the world described by the parsed arguments."""
    started = time.perf_counter()
    manifest = generate_world(args.leads, args.seed, args.out, args.fmt, progress=_stderr)
    elapsed = time.perf_counter() - started
    for name, entry in manifest["tables"].items():
        bad = sum(entry["bad_rows"].values())
        print(f"{name:16s} {entry['clean_rows']:>11,d} rows  {bad:>7,d} bad rows")
    world = manifest["world"]
    print(
        f"conversion rate (lead, as-of) -> 90d: {world['conversion_rate_account_leads']:.2%}"
        f" of account leads, {world['conversion_rate_all_leads']:.2%} of all leads"
    )
    print(f"wrote {args.out} ({args.fmt}) in {elapsed:.1f} s")
    return 0
