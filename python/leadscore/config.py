"""Paths and settings shared by the CLI, read from the environment with project defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_WORLD = PROJECT_ROOT / "seeds" / "demo_world"
DEMO_LEADS = 5000
DEMO_SEED = 42


@dataclass(frozen=True)
class Settings:
    """Where the warehouse, the registry and the dbt project live."""

    project_dir: Path
    warehouse_path: Path
    registry_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``LEAD_SCORING_DUCKDB_PATH`` and ``LEAD_SCORING_REGISTRY`` (project-relative)."""
        project_dir = Path(os.environ.get("DBT_PROJECT_DIR", PROJECT_ROOT)).resolve()
        warehouse = Path(
            os.environ.get("LEAD_SCORING_DUCKDB_PATH", "warehouse/lead_scoring.duckdb")
        )
        registry = Path(os.environ.get("LEAD_SCORING_REGISTRY", "registry"))
        return cls(
            project_dir=project_dir,
            warehouse_path=warehouse if warehouse.is_absolute() else project_dir / warehouse,
            registry_dir=registry if registry.is_absolute() else project_dir / registry,
        )

    @classmethod
    def in_folder(cls, folder: Path, warehouse_name: str = "warehouse.duckdb") -> Settings:
        """This project with its warehouse file and registry inside ``folder`` (for tests)."""
        return cls(
            project_dir=PROJECT_ROOT,
            warehouse_path=folder / warehouse_name,
            registry_dir=folder / "registry",
        )


def project_vars(project_dir: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The ``vars:`` of dbt_project.yml: the one place every ``lead_scoring__*`` setting lives."""
    with (project_dir / "dbt_project.yml").open() as handle:
        return dict(yaml.safe_load(handle).get("vars") or {})
