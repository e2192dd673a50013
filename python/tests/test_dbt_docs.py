"""dbt docs: the dashboard exposure and the served marts are documented from the warehouse.

``dbt docs generate`` runs on a copy of the demo warehouse with its own target folder. The
manifest must hold the dashboard exposure depending on exactly the models tagged
``serving`` (what ``leadscore publish`` copies), and the catalog every served mart with the
columns of its table and of its ``.yml``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from leadscore.config import PROJECT_ROOT, Settings
from leadscore.dashboard.queries import SERVED_TABLES
from leadscore.dbt import run_dbt
from leadscore.pipeline import DATASETS
from leadscore.publish import SERVING_TAG

EXPOSURE = "exposure.lead_scoring.lead_scoring_dashboard"
# The marts the dashboard reads: exactly what is tagged `serving` and published.
DASHBOARD_MARTS = set(SERVED_TABLES)


@pytest.fixture(scope="module")
def docs_target(
    demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """``dbt docs generate`` on a copy of the demo warehouse: (target folder, warehouse)."""
    folder = tmp_path_factory.mktemp("dbt_docs")
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    settings = Settings(
        project_dir=PROJECT_ROOT, warehouse_path=warehouse, registry_dir=folder / "registry"
    )
    target = folder / "target"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(target))
        patch.setenv("DBT_LOG_PATH", str(folder / "logs"))
        patch.setenv("DBT_PROFILES_DIR", str(PROJECT_ROOT))
        patch.setenv("DBT_PROJECT_DIR", str(PROJECT_ROOT))
        run_dbt("docs", settings, args=["generate"], dbt_vars=DATASETS["crm"])
    return target, warehouse


def _load(path: Path) -> dict[str, Any]:
    assert path.exists(), f"dbt docs generate wrote no {path.name}"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@pytest.mark.dbt
def test_manifest_declares_the_dashboard_exposure(docs_target: tuple[Path, Path]) -> None:
    """The exposure is a dashboard with an owner and a URL, reading every served mart."""
    manifest = _load(docs_target[0] / "manifest.json")
    assert EXPOSURE in manifest["exposures"], sorted(manifest["exposures"])
    exposure = manifest["exposures"][EXPOSURE]
    assert exposure["type"] == "dashboard"
    assert exposure["owner"]["name"] or exposure["owner"]["email"]
    assert exposure["url"].startswith("http://127.0.0.1:")
    assert exposure["description"].strip()
    served = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and SERVING_TAG in node["tags"]
    }
    expected = {f"model.lead_scoring.{name}" for name in DASHBOARD_MARTS}
    assert set(exposure["depends_on"]["nodes"]) == expected
    # what the dashboard reads is what publish copies: a newly served mart needs a page
    assert served == expected
    assert all(EXPOSURE in manifest["child_map"][node] for node in expected)


@pytest.mark.dbt
def test_catalog_holds_every_served_mart_with_its_columns(
    docs_target: tuple[Path, Path],
) -> None:
    """Each served mart is in the catalog with its table's columns, which cover its .yml's."""
    target, warehouse = docs_target
    manifest = _load(target / "manifest.json")
    catalog = _load(target / "catalog.json")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name in sorted(DASHBOARD_MARTS):
            unique_id = f"model.lead_scoring.{name}"
            assert unique_id in catalog["nodes"], f"{name} is not in catalog.json"
            entry = catalog["nodes"][unique_id]
            node = manifest["nodes"][unique_id]
            assert entry["metadata"]["name"] == name
            assert entry["metadata"]["schema"] == node["schema"]
            columns = {column.lower() for column in entry["columns"]}
            table = [
                row[0].lower()
                for row in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [node["schema"], name],
                ).fetchall()
            ]
            assert table, f"{node['schema']}.{name} is not in the warehouse"
            assert columns == set(table), name
            documented = {column.lower() for column in node["columns"]}
            assert documented, f"{name}.yml documents no column"
            assert documented <= columns, f"{name}: documented but not built: " + ", ".join(
                sorted(documented - columns)
            )
