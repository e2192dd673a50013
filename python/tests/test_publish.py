"""Write-audit-publish: the serving file is swapped whole, never mixed, never lost.

The cycle test runs real ``dbt build``s on a copy of the demo warehouse, each with other
tier cut-offs so every build's scores differ, and publishes after each, while a separate
reader process opens the serving file read-only in a loop and checks every table against
the manifest of the file it opened.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from leadscore.config import PROJECT_ROOT, Settings
from leadscore.dashboard.queries import SERVED_TABLES
from leadscore.dbt import DbtError
from leadscore.pipeline import DATASETS, rebuild_and_publish
from leadscore.publish import (
    MANIFEST_TABLE,
    PublishError,
    ServedTable,
    ServingMismatchError,
    publish,
    served_models,
    table_checksum,
    verify_serving,
)

CYCLES = 20
# What a tier cut-off change rebuilds: the tiers, the lead and account scores, the summary.
REBUILD = [
    "--select",
    "int_tier_cutoffs_solved+",
    "--exclude",
    "tag:monitoring",
    "--exclude-resource-type",
    "unit_test",
]
# The marts the dashboard reads: exactly what is tagged `serving` and published.
EXPECTED_SERVED = set(SERVED_TABLES)

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from leadscore.publish import verify_serving

    serving, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    reads, failures, seen = 0, [], []
    while not stop.exists():
        try:
            build_id = verify_serving(serving)
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")
        else:
            if not seen or seen[-1] != build_id:
                seen.append(build_id)
        reads += 1
        time.sleep(0.02)  # a BI refresh loop, not a busy loop: leave the cores to the builds
    out.write_text(json.dumps({"reads": reads, "failures": failures, "seen": seen}))
    """
)


def _settings(folder: Path, demo_warehouse: Path) -> Settings:
    warehouse = folder / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    return Settings(
        project_dir=PROJECT_ROOT,
        warehouse_path=warehouse,
        registry_dir=folder / "registry",
        serving_path=folder / "serving" / "serving.duckdb",
    )


def _manifest(path: Path) -> dict[str, tuple[str, int, int]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            f"select table_name, build_id, row_count, checksum from {MANIFEST_TABLE}"
        ).fetchall()
    return {name: (build_id, count, checksum) for name, build_id, count, checksum in rows}


@pytest.fixture(scope="module")
def served(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> list[ServedTable]:
    """The models tagged ``serving``, listed by dbt."""
    settings = _settings(tmp_path_factory.mktemp("listing"), demo_warehouse)
    return served_models(settings, DATASETS["crm"])


@pytest.mark.dbt
def test_the_serving_tag_lists_the_bi_marts(served: list[ServedTable]) -> None:
    assert {table.name for table in served} == EXPECTED_SERVED
    assert {table.schema for table in served} == {"marts"}


@pytest.mark.dbt
def test_publish_copies_every_row_and_stamps_one_build(
    demo_warehouse: Path, served: list[ServedTable], tmp_path: Path
) -> None:
    settings = _settings(tmp_path, demo_warehouse)
    result = publish(settings, served)
    assert verify_serving(result.path) == result.build_id
    manifest = _manifest(result.path)
    assert set(manifest) == EXPECTED_SERVED
    with (
        duckdb.connect(str(settings.warehouse_path), read_only=True) as source,
        duckdb.connect(str(result.path), read_only=True) as serving,
    ):
        for table in served:
            original = table_checksum(source, f"marts.{table.name}")
            assert table_checksum(serving, f'main."{table.name}"') == original
            assert manifest[table.name][1:] == original
            assert result.row_counts[table.name] == original[0]
    # Nothing is left beside the serving file but the file and its publish lock.
    leftovers = sorted(p.name for p in result.path.parent.iterdir())
    assert leftovers == [f".{result.path.name}.lock", result.path.name]


@pytest.mark.dbt
def test_verify_catches_a_table_that_differs_from_its_manifest(
    demo_warehouse: Path, served: list[ServedTable], tmp_path: Path
) -> None:
    settings = _settings(tmp_path, demo_warehouse)
    result = publish(settings, served)
    tampered = tmp_path / "tampered.duckdb"
    shutil.copy(result.path, tampered)
    with duckdb.connect(str(tampered)) as con:
        con.execute("delete from fct_lead_scores where rowid = 0")
    with pytest.raises(ServingMismatchError, match="fct_lead_scores"):
        verify_serving(tampered)


@pytest.mark.dbt
def test_a_missing_table_publishes_nothing(
    demo_warehouse: Path, served: list[ServedTable], tmp_path: Path
) -> None:
    settings = _settings(tmp_path, demo_warehouse)
    before = publish(settings, served)
    with pytest.raises(PublishError, match=r"marts\.fct_not_built"):
        publish(settings, [*served, ServedTable(name="fct_not_built", schema="marts")])
    assert verify_serving(before.path) == before.build_id
    assert [p.name for p in before.path.parent.glob("*.tmp*")] == []


@pytest.mark.dbt
def test_readers_never_fail_or_mix_builds_across_publish_cycles(
    demo_warehouse: Path, served: list[ServedTable], tmp_path: Path
) -> None:
    settings = _settings(tmp_path, demo_warehouse)
    first = publish(settings, served)
    stop, out = tmp_path / "stop", tmp_path / "reads.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.serving_file), str(stop), str(out)]
    )
    published = [first.build_id]
    summaries = []
    try:
        for cycle in range(CYCLES):
            cutoffs = {"A": 1 + cycle % 7, "B": 10 + cycle, "C": 45}
            dbt_vars = {**DATASETS["crm"], "lead_scoring__tier_percent_cutoffs": cutoffs}
            result = rebuild_and_publish(settings, REBUILD, dbt_vars, tables=served)
            published.append(result.build_id)
            summaries.append(_manifest(result.path)["fct_lead_tier_summary"][2])
        last = _manifest(settings.serving_file)
        # An injected failing build (cut-offs out of order fail to compile) publishes nothing.
        broken = {**DATASETS["crm"], "lead_scoring__tier_percent_cutoffs": {"A": 50, "B": 10}}
        with pytest.raises(DbtError):
            rebuild_and_publish(settings, REBUILD, broken, tables=served)
        assert _manifest(settings.serving_file) == last
        assert verify_serving(settings.serving_file) == published[-1]
    finally:
        stop.touch()
        reader.wait(timeout=120)
    reads = json.loads(out.read_text())
    assert reads["failures"] == []
    assert reads["reads"] > CYCLES
    # Each read saw one whole build, in publish order; the reader overlapped the cycles.
    assert set(reads["seen"]) <= set(published)
    order = [published.index(build_id) for build_id in reads["seen"]]
    assert order == sorted(order)
    assert len(reads["seen"]) >= CYCLES // 2
    # Builds differ, so a table from one build beside another's manifest would be caught.
    assert len(set(summaries)) > 1


def test_publish_without_a_warehouse_says_so(tmp_path: Path) -> None:
    settings = Settings.in_folder(tmp_path)
    with pytest.raises(PublishError, match="run a build first"):
        publish(settings, [ServedTable(name="fct_lead_scores", schema="marts")])
    assert not settings.serving_file.exists()
