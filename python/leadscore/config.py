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
    serving_path: Path | None = None

    def __post_init__(self) -> None:
        # The serving file sits beside the warehouse unless it is named.
        if self.serving_path is None:
            object.__setattr__(
                self, "serving_path", self.warehouse_path.with_name("serving.duckdb")
            )

    @property
    def serving_file(self) -> Path:
        """The published, read-only copy of the BI-facing marts (``leadscore publish``)."""
        assert self.serving_path is not None
        return self.serving_path

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``LEAD_SCORING_DUCKDB_PATH``, ``LEAD_SCORING_REGISTRY`` and
        ``LEAD_SCORING_SERVING_PATH`` (relative paths are relative to the project)."""
        project_dir = Path(os.environ.get("DBT_PROJECT_DIR", PROJECT_ROOT)).resolve()

        def path(variable: str, default: str) -> Path:
            value = Path(os.environ.get(variable, default))
            return value if value.is_absolute() else project_dir / value

        return cls(
            project_dir=project_dir,
            warehouse_path=path("LEAD_SCORING_DUCKDB_PATH", "warehouse/lead_scoring.duckdb"),
            registry_dir=path("LEAD_SCORING_REGISTRY", "registry"),
            serving_path=path("LEAD_SCORING_SERVING_PATH", "warehouse/serving.duckdb"),
        )

    @classmethod
    def in_folder(cls, folder: Path, warehouse_name: str = "warehouse.duckdb") -> Settings:
        """This project with its warehouse file and registry inside ``folder`` (for tests)."""
        return cls(
            project_dir=PROJECT_ROOT,
            warehouse_path=folder / warehouse_name,
            registry_dir=folder / "registry",
            serving_path=folder / "serving.duckdb",
        )


def project_vars(project_dir: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The ``vars:`` of dbt_project.yml: the one place every ``lead_scoring__*`` setting lives."""
    with (project_dir / "dbt_project.yml").open() as handle:
        return dict(yaml.safe_load(handle).get("vars") or {})
