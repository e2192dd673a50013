"""The end-to-end commands: build the warehouse, and ``run`` (the README's main job)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from leadscore.config import DEMO_LEADS, DEMO_SEED, DEMO_WORLD, Settings, project_vars
from leadscore.dbt import DbtError, run_dbt
from leadscore.publish import PublishError, PublishResult, ServedTable, publish

DATASETS: dict[str, dict[str, str]] = {
    # The committed synthetic world (docs/raw_contract.md), with its ground truth.
    "crm": {
        "lead_scoring__dataset": "crm",
        "lead_scoring__ground_truth_path": "seeds/demo_world/ground_truth",
    },
    # The public Maven Analytics export beside the project (docs/maven_crm.md).
    "maven_crm": {
        "lead_scoring__dataset": "maven_crm",
        "lead_scoring__raw_path": "../shared/data/maven_crm",
        # The archive states no export time: the midnight after its last date (a close_date
        # of 2017-12-31), so every real row is in the past and later dates are quarantined.
        "lead_scoring__extracted_at": "2018-01-01 00:00:00",
    },
}


def build_warehouse(
    settings: Settings,
    dataset: str = "crm",
    fresh: bool = False,
    extra_vars: dict[str, Any] | None = None,
    args: Sequence[str] = (),
) -> None:
    """Run ``dbt build`` for a dataset; ``fresh`` starts from an empty warehouse file."""
    if fresh:
        for suffix in ("", ".wal"):
            Path(f"{settings.warehouse_path}{suffix}").unlink(missing_ok=True)
    run_dbt("build", settings, args=args, dbt_vars={**DATASETS[dataset], **(extra_vars or {})})


def summarize(settings: Settings) -> list[tuple[str, str, int]]:
    """Row counts of every table and view the build left in the warehouse."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "union all select schema_name, view_name from duckdb_views() where not internal "
            "order by 1, 2"
        ).fetchall()
        return [
            (
                schema,
                name,
                con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0],
            )
            for schema, name in tables
        ]


def ensure_demo_world() -> None:
    """Write the demo world when its files are missing (it is committed, so rarely)."""
    if not (DEMO_WORLD / "manifest.json").exists():
        from leadscore.generate import generate_world

        print(f"generating the demo world ({DEMO_LEADS} leads, seed {DEMO_SEED})", flush=True)
        generate_world(DEMO_LEADS, DEMO_SEED, DEMO_WORLD)


def _cmd_build(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        build_warehouse(settings, dataset=args.dataset, fresh=args.fresh)
    except DbtError as error:
        print(f"error: {error}")
        return 1
    return 0


def train_current_model(settings: Settings, dataset: str = "crm") -> bool:
    """Train and register a model on the built warehouse; False when the data is too thin.

    Below the sufficiency minimum nothing is registered and scoring keeps to the rules.
    """
    from leadscore.train import InsufficientDataError, train_and_register

    oracle = None
    if DATASETS[dataset].get("lead_scoring__ground_truth_path"):
        oracle = "marts.fct_lead_true_probabilities"
    dbt_vars = {**project_vars(settings.project_dir), **DATASETS[dataset]}
    try:
        result = train_and_register(
            settings,
            horizon_days=int(dbt_vars["lead_scoring__label_horizon_days"]),
            min_leads=int(dbt_vars["lead_scoring__min_training_leads"]),
            min_conversions=int(dbt_vars["lead_scoring__min_training_conversions"]),
            oracle_table=oracle,
        )
    except InsufficientDataError as error:
        print(f"not training: {error}\nscoring stays on the rules-based score", flush=True)
        return False
    state = "promoted" if result.promoted else "registered, not promoted"
    print(f"model {result.version} {state} ({result.model_type}, {result.calibration})")
    return True


def run_pipeline(
    settings: Settings,
    dataset: str = "crm",
    extra_vars: dict[str, Any] | None = None,
    publish_serving: bool = True,
) -> PublishResult | None:
    """The main job: build features, train and register, score, monitor, then publish.

    Returns the publish, or None with ``publish_serving`` off.

    Raises
    ------
    DbtError
        When a dbt build fails; the serving file keeps the previous publish.
    PublishError
        When the serving file cannot be written; it keeps the previous publish.
    """
    ensure_demo_world()
    dbt_vars = {**DATASETS[dataset], **(extra_vars or {})}
    # Monitoring judges the current model: it runs after training, with the scores.
    build_warehouse(
        settings, dataset=dataset, extra_vars=extra_vars, args=["--exclude", "tag:monitoring"]
    )
    if train_current_model(settings, dataset):
        # Score again with the newly promoted model; everything downstream rebuilds.
        select = ["--select", "tag:scoring+", "tag:monitoring"]
    else:
        select = ["--select", "tag:monitoring"]
    if not publish_serving:
        run_dbt("build", settings, args=select, dbt_vars=dbt_vars)
        return None
    return rebuild_and_publish(settings, select, dbt_vars)


def rebuild_and_publish(
    settings: Settings,
    args: Sequence[str],
    dbt_vars: dict[str, Any],
    tables: list[ServedTable] | None = None,
) -> PublishResult:
    """``dbt build`` with ``args``, then publish the serving file only if the build passed.

    Raises
    ------
    DbtError
        When the build fails: nothing is published and the serving file is left as it was.
    """
    run_dbt("build", settings, args=args, dbt_vars=dbt_vars)
    return publish(settings, tables=tables, dbt_vars=dbt_vars)


def _cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    started = time.perf_counter()
    try:
        published = run_pipeline(settings, publish_serving=not args.no_publish)
    except (DbtError, PublishError) as error:
        print(f"error: {error}; the serving file keeps its previous publish")
        return 1
    print(f"\nwarehouse {settings.warehouse_path} built in {time.perf_counter() - started:.1f}s")
    for schema, name, rows in summarize(settings):
        if schema == "marts":
            print(f"  {schema}.{name:<45} {rows:>10,} rows")
    if published is not None:
        print(f"published build {published.build_id} to {published.path} (open it read-only)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build-warehouse`` and ``run`` sub-commands."""
    build = subparsers.add_parser(
        "build-warehouse", help="run dbt build for a dataset into the warehouse file"
    )
    build.add_argument("--dataset", choices=sorted(DATASETS), default="crm")
    build.add_argument("--fresh", action="store_true", help="start from an empty warehouse")
    build.set_defaults(func=_cmd_build)
    run = subparsers.add_parser("run", help="the main job: build, train, score and publish")
    run.add_argument("--no-publish", action="store_true", help="leave the serving file as it is")
    run.set_defaults(func=_cmd_run)
