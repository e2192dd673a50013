"""Running dbt from the CLI: one subprocess per command, its exit code is the gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leadscore.config import Settings


class DbtError(RuntimeError):
    """A dbt command exited non-zero; nothing downstream of it may run."""


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtualenv)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment of a dbt subprocess: this project, its profile, the settings' warehouse."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(settings.project_dir),
        "DBT_PROJECT_DIR": str(settings.project_dir),
        "LEAD_SCORING_DUCKDB_PATH": str(settings.warehouse_path),
    }


def run_dbt(
    command: str,
    settings: Settings,
    args: Sequence[str] = (),
    dbt_vars: Mapping[str, Any] | None = None,
) -> None:
    """Run ``dbt <command>`` in the project against the settings' warehouse.

    Parameters
    ----------
    command:
        The dbt sub-command, e.g. ``build``.
    settings:
        Where the project and the warehouse file are.
    args:
        Extra dbt arguments (``--select ...``).
    dbt_vars:
        Project variables passed with ``--vars``.

    Raises
    ------
    DbtError
        When dbt exits non-zero.
    """
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [dbt_executable(), command, *args]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dict(dbt_vars))]
    result = subprocess.run(cmd, cwd=settings.project_dir, env=dbt_env(settings), check=False)
    if result.returncode != 0:
        raise DbtError(f"dbt {command} failed (exit {result.returncode}); see its output above")
