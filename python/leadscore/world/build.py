"""Run the whole simulation and write the raw tables, the ground truth and the manifest."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from leadscore.world import params as P
from leadscore.world.accounts import (
    Accounts,
    Cycles,
    Events,
    make_accounts,
    make_exogenous_signals,
    make_intent_signals,
    simulate_cycles,
)
from leadscore.world.activity import EventLog, TouchLog, simulate_engagement
from leadscore.world.badrows import inject, new_key_count
from leadscore.world.hazard import (
    AS_OF_DAYS,
    AccountTruth,
    Opportunities,
    account_truth,
    calibrate_intercept,
    conversion_rates,
    leads_existing,
    log_hazard,
    simulate_opportunities,
)
from leadscore.world.leads import Leads, engaged_roles_by_day, make_leads
from leadscore.world.rawtables import (
    Keys,
    account_truth_table,
    accounts_table,
    activities_table,
    channel_effects_table,
    in_market_table,
    lead_roles_table,
    leads_table,
    opportunities_table,
    signals_table,
    touchpoints_table,
)
from leadscore.world.table import Table
from leadscore.world.writer import (
    FORMATS,
    append_ragged,
    append_unterminated_quote,
    connect,
    copy_rows,
    data_lines,
)

Progress = Callable[[str], None]


@dataclass
class World:
    """Everything the simulation produced, before it is written."""

    accounts: Accounts
    signals: tuple[Events, Events, Events, Events]  # intent, funding, hiring, installs
    cycles: Cycles
    leads: Leads
    events: EventLog
    touches: TouchLog
    alpha: float
    opps: Opportunities
    truth: AccountTruth
    rates: dict[str, float]


def _quiet(message: str) -> None:
    """Default progress callback: say nothing."""


def simulate(n_leads: int, seed: int, progress: Progress = _quiet) -> World:
    """Simulate the latent world and everything observed of it.

    Parameters
    ----------
    n_leads : int
        Number of leads (about one account per ``LEADS_PER_ACCOUNT`` leads).
    seed : int
        Seed of every random draw; each step has its own child seed.
    progress : callable, optional
        Receives a line per finished step.

    Returns
    -------
    World
        The simulated world.
    """
    rng = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    n_accounts = max(1, round(n_leads / P.LEADS_PER_ACCOUNT))
    clock = _Clock(progress)
    accounts = make_accounts(rng[0], n_accounts)
    funding, hiring, installs = make_exogenous_signals(rng[1], accounts)
    cycles = simulate_cycles(rng[2], accounts, funding, hiring)
    intent = make_intent_signals(rng[3], accounts, cycles)
    clock.lap(f"accounts, signals and buying cycles ({n_accounts:,} accounts)")
    leads = make_leads(rng[4], accounts, cycles, n_leads)
    clock.lap(f"leads ({n_leads:,})")
    events, touches = simulate_engagement(rng[5], leads, cycles)
    clock.lap(f"activities ({events.lead.size:,}) and touchpoints ({touches.lead.size:,})")
    roles = engaged_roles_by_day(leads, cycles, n_accounts)
    eta = log_hazard(accounts, cycles, roles, intent, touches, leads)
    del roles
    weights = leads_existing(leads, n_accounts)
    alpha = calibrate_intercept(eta, weights)
    clock.lap(f"hazard (intercept {alpha:.4f})")
    opps = simulate_opportunities(rng[6], eta, alpha, accounts, leads, cycles)
    truth = account_truth(eta, alpha, opps)
    del eta
    free_created = np.sort(leads.created_day[leads.account < 0])
    rates = conversion_rates(truth, weights, np.searchsorted(free_created, AS_OF_DAYS))
    clock.lap(f"opportunities ({opps.account.size:,}) and ground truth")
    signals = (intent, funding, hiring, installs)
    return World(accounts, signals, cycles, leads, events, touches, alpha, opps, truth, rates)


def generate_world(
    n_leads: int, seed: int, out: Path, fmt: str = "csv", progress: Progress = _quiet
) -> dict:
    """Simulate a world of ``n_leads`` leads and write it to ``out``.

    Parameters
    ----------
    n_leads : int
        Number of leads (about one account per ``LEADS_PER_ACCOUNT`` leads).
    seed : int
        Seed of every random draw; the same arguments give byte-identical files.
    out : pathlib.Path
        Output folder; ``out/ground_truth`` receives the ground truth.
    fmt : str
        ``"csv"`` or ``"parquet"``.
    progress : callable, optional
        Receives a line per finished step.

    Returns
    -------
    dict
        The manifest, also written to ``out/manifest.json``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    if n_leads < 10:
        raise ValueError("a world needs at least 10 leads")
    world = simulate(n_leads, seed, progress)
    return write_world(world, seed, Path(out), fmt, progress)


def _clean_counts(world: World) -> dict[str, int]:
    """Rows of each raw table before bad rows are added."""
    in_history = P.N_DAYS * P.SECONDS_PER_DAY
    return {
        "accounts": world.accounts.n,
        "leads": world.leads.n,
        "activities": int(world.events.lead.size),
        "touchpoints": int((world.touches.ts < in_history).sum()),
        "opportunities": int((world.opps.day < P.N_DAYS).sum()),
        "account_signals": int(sum((e.day < P.N_DAYS).sum() for e in world.signals)),
    }


def write_world(world: World, seed: int, out: Path, fmt: str, progress: Progress = _quiet) -> dict:
    """Write the raw tables (with bad rows), the ground truth and ``manifest.json``."""
    clock = _Clock(progress)
    clean = _clean_counts(world)
    keys = Keys(
        {
            name: max(6, len(str(count + new_key_count(count, name, fmt))))
            for name, count in clean.items()
        }
    )
    bad_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(9)[8])
    signal_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(9)[7])
    raw: dict[str, Callable[[], Table]] = {
        "accounts": lambda: accounts_table(world.accounts, keys),
        "leads": lambda: leads_table(world.leads, world.accounts, keys),
        "activities": lambda: activities_table(world.events, keys),
        "touchpoints": lambda: touchpoints_table(world.touches, keys),
        "opportunities": lambda: opportunities_table(world.opps, keys),
        "account_signals": lambda: signals_table(signal_rng, world.signals, keys),
    }
    truth: dict[str, Callable[[], Table]] = {
        "account_truth": lambda: account_truth_table(world.truth, keys),
        "channel_effects": channel_effects_table,
        "in_market_periods": lambda: in_market_table(world.cycles, keys),
        "lead_roles": lambda: lead_roles_table(world.leads, keys),
    }
    (out / "ground_truth").mkdir(parents=True, exist_ok=True)
    con = connect()
    tables = {}
    for name, build in raw.items():
        tables[name] = _write_raw(con, bad_rng, build(), keys, out, fmt)
        clock.lap(f"wrote {name}")
    truth_files = {}
    for name, build in truth.items():
        truth_files[name] = _write_truth(con, build(), out / "ground_truth", fmt)
    clock.lap("wrote ground truth")
    con.close()
    manifest = _manifest(world, seed, fmt, tables, truth_files)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _manifest(world: World, seed: int, fmt: str, tables: dict, truth_files: dict) -> dict:
    """The manifest: run arguments, calendar, per-table line counts and world summary."""
    rates, n_leads = world.rates, world.leads.n
    return {
        "generator": "leadscore generate",
        "generator_version": P.GENERATOR_VERSION,
        "seed": seed,
        "leads": n_leads,
        "format": fmt,
        "start_date": P.START_DATE.isoformat(),
        "end_date": P.END_DATE.isoformat(),
        "extracted_at": P.EXTRACTED_AT,
        "tables": tables,
        "ground_truth": truth_files,
        "world": {
            "accounts": world.accounts.n,
            "accounts_with_in_market_period": int((world.cycles.count > 0).sum()),
            "in_market_periods": int(world.cycles.account.size),
            "hazard_intercept": round(world.alpha, 6),
            "target_conversion_rate": P.TARGET_CONVERSION_RATE,
            "conversion_rate_account_leads": round(rates["account_leads"], 6),
            "conversion_rate_all_leads": round(rates["all_leads"], 6),
            "mean_p_open_90d_account_leads": round(rates["mean_p_open_90d"], 6),
            "activities_per_lead": round(tables["activities"]["clean_rows"] / n_leads, 3),
            "touchpoints_per_lead": round(tables["touchpoints"]["clean_rows"] / n_leads, 3),
        },
    }


def _clear(folder: Path, name: str, fmt: str) -> Path:
    """Remove earlier CSV/Parquet files of a table; return the path for this run."""
    for other in FORMATS:
        (folder / f"{name}.{other}").unlink(missing_ok=True)
    return folder / f"{name}.{fmt}"


def _write_raw(
    con: duckdb.DuckDBPyConnection,
    rng: np.random.Generator,
    table: Table,
    keys: Keys,
    out: Path,
    fmt: str,
) -> dict:
    """Inject bad rows, write one raw table and return its manifest entry."""
    path = _clear(out, table.name, fmt)
    injected = inject(rng, table, fmt)
    copy_rows(con, table, injected.cols, path, fmt)
    if fmt == "csv":
        append_ragged(con, table, injected.ragged, path)
        if "unterminated_quote" in injected.counts:
            _append_unterminated(rng, table, keys, path)
    lines = data_lines(path, fmt)
    expected = table.n + sum(injected.counts.values())
    if lines != expected:
        raise RuntimeError(f"{path}: {lines} data lines, expected {expected}")
    return {
        "file": path.name,
        "data_lines": lines,
        "clean_rows": table.n,
        "bad_rows": injected.counts,
    }


def _append_unterminated(rng: np.random.Generator, table: Table, keys: Keys, path: Path) -> None:
    """Write the single unterminated-quote activity line with the last new key."""
    last_id = table.n + new_key_count(table.n, "activities", "csv")
    row = int(rng.integers(0, table.n))
    lead = int(table.cols["lead"][row])
    stamp = np.datetime64(P.START_DATE.isoformat(), "s") + np.timedelta64(
        int(table.cols["occurred"][row]), "s"
    )
    append_unterminated_quote(
        path,
        f"AV{last_id:0{keys.widths['activities']}d}",
        f"LD{lead:0{keys.widths['leads']}d}",
        str(stamp).replace("T", " "),
    )


def _write_truth(con: duckdb.DuckDBPyConnection, table: Table, folder: Path, fmt: str) -> dict:
    """Write one ground-truth table and return its manifest entry."""
    path = _clear(folder, table.name, fmt)
    copy_rows(con, table, table.cols, path, fmt)
    return {"file": f"ground_truth/{path.name}", "rows": table.n}


class _Clock:
    """Reports the seconds each step took to a progress callback."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        """Report ``step`` with the seconds since the previous lap."""
        now = time.perf_counter()
        self.progress(f"{now - self.last:7.1f} s  {step}")
        self.last = now
