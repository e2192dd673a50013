"""Shared fixtures: a demo warehouse built once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from leadscore.config import DEMO_WORLD, Settings
from leadscore.pipeline import build_warehouse


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world built with ``dbt build`` (every model and test).

    ``make test`` builds it first and passes its path in ``LEAD_SCORING_TEST_WAREHOUSE``;
    run alone, pytest builds it here.
    """
    prebuilt = os.environ.get("LEAD_SCORING_TEST_WAREHOUSE")
    if prebuilt and Path(prebuilt).exists():
        return Path(prebuilt)
    assert (DEMO_WORLD / "manifest.json").exists(), "the demo world is missing"
    settings = Settings.in_folder(tmp_path_factory.mktemp("demo"))
    build_warehouse(settings, fresh=True)
    return settings.warehouse_path


@pytest.fixture()
def demo_con(demo_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the demo warehouse."""
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    yield con
    con.close()
