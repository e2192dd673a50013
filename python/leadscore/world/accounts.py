"""Accounts, their exogenous signals and their buying cycles (in-market periods)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadscore.world import params as P
from leadscore.world.sampling import categorical, occurrence_index, seconds_in_day

COUNTRY_NAMES = tuple(c[0] for region in P.REGIONS for c in P.COUNTRIES[region])
COUNTRY_TLDS = tuple(c[1] for region in P.REGIONS for c in P.COUNTRIES[region])
NO_CYCLE = np.int16(32767)


@dataclass
class Accounts:
    """The accounts table plus the latent fit of every account."""

    created_s: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray
    region: np.ndarray
    country: np.ndarray
    band: np.ndarray
    fit: np.ndarray
    name: np.ndarray
    domain: np.ndarray

    @property
    def n(self) -> int:
        """Number of accounts."""
        return int(self.fit.size)


@dataclass
class Events:
    """Account-level dated events: one row per signal of one kind."""

    account: np.ndarray
    day: np.ndarray
    topic: np.ndarray
    value: np.ndarray


@dataclass
class Cycles:
    """Buying cycles: a flat list plus per-account padded arrays and the daily state."""

    account: np.ndarray
    start: np.ndarray
    end: np.ndarray
    count: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    index: np.ndarray  # (N_SIM_DAYS, n_accounts) int8: cycle number in market, -1 outside
    by_account: np.ndarray  # the same, transposed to (n_accounts, N_SIM_DAYS)


def make_accounts(rng: np.random.Generator, n: int) -> Accounts:
    """Draw firmographics, the latent fit and names for ``n`` accounts.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    n : int
        Number of accounts.

    Returns
    -------
    Accounts
        Accounts ordered by creation time (the CRM key order).
    """
    days = np.sort(rng.integers(P.ACCOUNT_CREATED_FROM_DAY, 0, n))
    created_s = days * P.SECONDS_PER_DAY + seconds_in_day(rng, n)
    industry = categorical(rng, P.INDUSTRY_WEIGHTS, n)
    log_emp = np.clip(
        rng.normal(P.LOG10_EMPLOYEES_MEAN, P.LOG10_EMPLOYEES_SD, n), *P.LOG10_EMPLOYEES_RANGE
    )
    employees = np.round(10.0**log_emp).astype(np.int64)
    per_employee = np.asarray(P.REVENUE_PER_EMPLOYEE, dtype=np.float64)[industry]
    revenue = np.round(employees * per_employee * rng.lognormal(0.0, 0.3, n), -3).astype(np.int64)
    band = np.searchsorted(np.asarray(P.SIZE_BAND_EDGES), employees, side="right").astype(np.int16)
    region = categorical(rng, P.REGION_WEIGHTS, n)
    fit = (
        np.asarray(P.INDUSTRY_FIT)[industry]
        + np.asarray(P.SIZE_BAND_FIT)[band]
        + np.asarray(P.REGION_FIT)[region]
        + rng.normal(0.0, P.FIT_NOISE_SD, n)
    )
    country = _draw_countries(rng, region)
    name, domain = _names_and_domains(rng, industry, region, country)
    return Accounts(
        created_s, industry, employees, revenue, region, country, band, fit, name, domain
    )


def _draw_countries(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """Headquarters country (index into ``COUNTRY_NAMES``) given the region."""
    country = np.zeros(region.size, dtype=np.int16)
    offset = 0
    for r, code in enumerate(P.REGIONS):
        choices = P.COUNTRIES[code]
        mask = region == r
        country[mask] = offset + categorical(rng, [c[2] for c in choices], int(mask.sum()))
        offset += len(choices)
    return country


def _names_and_domains(
    rng: np.random.Generator, industry: np.ndarray, region: np.ndarray, country: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Company names like "Northwind Analytics, Inc." and unique web domains."""
    n = industry.size
    stem_a = rng.integers(0, len(P.NAME_STEMS_A), n)
    stem_b = rng.integers(0, len(P.NAME_STEMS_B), n)
    noun_pick = rng.random(n)
    nouns = np.empty(n, dtype=object)
    for i, options in enumerate(P.INDUSTRY_NOUNS):
        mask = industry == i
        nouns[mask] = np.asarray(options, dtype=object)[
            (noun_pick[mask] * len(options)).astype(int)
        ]
    legal = np.full(n, "", dtype=object)
    legal_pick = rng.random(n)
    government = P.INDUSTRIES.index("Government")
    for r, code in enumerate(P.REGIONS):
        options = np.asarray(P.LEGAL_SUFFIXES[code], dtype=object)
        mask = (region == r) & (industry != government)
        legal[mask] = options[(legal_pick[mask] * len(options)).astype(int)]
    stem = np.char.add(np.asarray(P.NAME_STEMS_A)[stem_a], np.asarray(P.NAME_STEMS_B)[stem_b])
    name = (stem.astype(object) + " " + nouns + legal).astype(str)

    with_noun = rng.random(n) < 0.4
    noun_slug = np.char.replace(np.char.lower(nouns.astype(str)), " ", "")
    slug = np.char.lower(stem).astype(object) + np.where(with_noun, noun_slug, "").astype(object)
    us = COUNTRY_NAMES.index("United States")
    local_tld = (rng.random(n) < P.COUNTRY_TLD_SHARE) & (country != us)
    tld = np.where(local_tld, np.asarray(COUNTRY_TLDS)[country], ".com")
    base = (slug + tld.astype(object)).astype(str)
    occ = occurrence_index(np.unique(base, return_inverse=True)[1])
    suffix = np.where(occ > 0, (occ + 1).astype(str), "")
    domain = (slug + suffix.astype(object) + tld.astype(object)).astype(str)
    return name, domain


def make_exogenous_signals(
    rng: np.random.Generator, accounts: Accounts
) -> tuple[Events, Events, Events]:
    """Funding rounds, hiring surges and technology installs over the simulated days.

    Returns
    -------
    tuple of Events
        ``(funding, hiring, installs)``; topics index ``FUNDING_ROUNDS``, ``DEPARTMENTS``
        and ``TECHNOLOGIES``.
    """
    n = accounts.n
    years = P.N_SIM_DAYS / 365.0
    fund_rate = np.asarray(P.FUNDING_RATE_PER_YEAR)[accounts.band] * years
    fund_acc = np.repeat(np.arange(n), rng.poisson(fund_rate))
    lo_hi = np.asarray(P.FUNDING_ROUND_BY_BAND)[accounts.band[fund_acc]]
    rounds = lo_hi[:, 0] + (rng.random(fund_acc.size) * (lo_hi[:, 1] - lo_hi[:, 0] + 1)).astype(
        np.int64
    )
    amount = np.asarray(P.FUNDING_MEDIAN_USD)[rounds] * rng.lognormal(0.0, 0.4, fund_acc.size)
    funding = Events(
        fund_acc,
        rng.integers(0, P.N_SIM_DAYS, fund_acc.size),
        rounds,
        np.round(amount, -5).astype(np.int64),
    )
    hire_acc = np.repeat(np.arange(n), rng.poisson(P.HIRING_RATE_PER_YEAR * years, n))
    roles = accounts.employees[hire_acc] * rng.uniform(0.02, 0.08, hire_acc.size)
    hiring = Events(
        hire_acc,
        rng.integers(0, P.N_SIM_DAYS, hire_acc.size),
        categorical(rng, P.DEPARTMENT_WEIGHTS, hire_acc.size).astype(np.int64),
        np.clip(np.round(roles), 5, 500).astype(np.int64),
    )
    tech_acc = np.repeat(np.arange(n), rng.poisson(P.TECH_INSTALLS_MEAN, n))
    complementary = rng.random(tech_acc.size) < 1.0 / (1.0 + np.exp(-accounts.fit[tech_acc]))
    n_comp, n_other = P.COMPLEMENTARY_TECH, len(P.TECHNOLOGIES) - P.COMPLEMENTARY_TECH
    tech = np.where(
        complementary,
        rng.integers(0, n_comp, tech_acc.size),
        n_comp + rng.integers(0, n_other, tech_acc.size),
    )
    installs = Events(
        tech_acc,
        rng.integers(0, P.N_SIM_DAYS, tech_acc.size),
        tech,
        np.ones(tech_acc.size, dtype=np.int64),
    )
    return funding, hiring, installs


def _day_slices(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order events by day and return the order and per-day slice bounds."""
    order = np.argsort(days, kind="stable")
    bounds = np.searchsorted(days[order], np.arange(P.N_SIM_DAYS + 1))
    return order, bounds


def simulate_cycles(
    rng: np.random.Generator, accounts: Accounts, funding: Events, hiring: Events
) -> Cycles:
    """Run the daily buying-cycle process of every account.

    Out of market, a cycle starts with daily probability
    ``CYCLE_BASE_DAILY * exp(CYCLE_FIT_COEF * fit) * (1 + boosts)``, where the boosts apply
    within ``FUNDING_WINDOW_DAYS`` after a funding round and ``HIRING_WINDOW_DAYS`` after a
    hiring surge. A cycle lasts 30-150 days, then the account rests for
    ``CYCLE_COOLDOWN_DAYS``.
    """
    n = accounts.n
    base = P.CYCLE_BASE_DAILY * np.exp(P.CYCLE_FIT_COEF * accounts.fit)
    dur0 = rng.integers(P.CYCLE_MIN_DAYS, P.CYCLE_MAX_DAYS + 1, n)
    in_cycle = rng.random(n) < np.clip(P.CYCLE_INITIAL_SHARE * np.exp(0.5 * accounts.fit), 0, 0.5)
    start0 = -(rng.random(n) * dur0).astype(np.int64)
    end = np.where(in_cycle, start0 + dur0 - 1, -1)
    count = in_cycle.astype(np.int64)
    rest_until = np.full(n, -1, dtype=np.int64)
    last_fund = np.full(n, -10_000, dtype=np.int64)
    last_hire = np.full(n, -10_000, dtype=np.int64)
    f_order, f_bounds = _day_slices(funding.day)
    h_order, h_bounds = _day_slices(hiring.day)
    index = np.empty((P.N_SIM_DAYS, n), dtype=np.int8)
    rec_acc = [np.flatnonzero(in_cycle)]
    rec_start = [start0[in_cycle]]
    rec_end = [end[in_cycle]]
    for d in range(P.N_SIM_DAYS):
        ended = in_cycle & (end < d)
        rest_until[ended] = end[ended] + P.CYCLE_COOLDOWN_DAYS
        in_cycle &= ~ended
        boost = (
            1.0
            + P.CYCLE_FUNDING_BOOST * (d - last_fund <= P.FUNDING_WINDOW_DAYS)
            + P.CYCLE_HIRING_BOOST * (d - last_hire <= P.HIRING_WINDOW_DAYS)
        )
        eligible = ~in_cycle & (rest_until < d) & (count < P.MAX_CYCLES)
        starters = np.flatnonzero(eligible & (rng.random(n) < base * boost))
        dur = rng.integers(P.CYCLE_MIN_DAYS, P.CYCLE_MAX_DAYS + 1, starters.size)
        in_cycle[starters] = True
        end[starters] = d + dur - 1
        count[starters] += 1
        rec_acc.append(starters)
        rec_start.append(np.full(starters.size, d))
        rec_end.append(d + dur - 1)
        index[d] = np.where(in_cycle, count - 1, -1)
        last_fund[funding.account[f_order[f_bounds[d] : f_bounds[d + 1]]]] = d
        last_hire[hiring.account[h_order[h_bounds[d] : h_bounds[d + 1]]]] = d
    return _pack_cycles(
        n, np.concatenate(rec_acc), np.concatenate(rec_start), np.concatenate(rec_end), index
    )


def _pack_cycles(
    n: int, acc: np.ndarray, start: np.ndarray, end: np.ndarray, index: np.ndarray
) -> Cycles:
    """Sort cycles by account and start, number them, and pad per-account arrays."""
    order = np.lexsort((start, acc))
    acc, start, end = acc[order], start[order], end[order]
    count = np.bincount(acc, minlength=n)
    k = occurrence_index(acc)
    starts = np.full((n, P.MAX_CYCLES), NO_CYCLE, dtype=np.int16)
    ends = np.full((n, P.MAX_CYCLES), -NO_CYCLE, dtype=np.int16)
    starts[acc, k] = start
    ends[acc, k] = end
    return Cycles(acc, start, end, count, starts, ends, index, np.ascontiguousarray(index.T))


def make_intent_signals(rng: np.random.Generator, accounts: Accounts, cycles: Cycles) -> Events:
    """Intent surges: dense from ``INTENT_LEAD_DAYS`` before a cycle to its end, sparse else.

    Values are intent scores 0-100 (high around cycles, low in the background); the topic
    is the account's primary topic with probability ``INTENT_PRIMARY_TOPIC_SHARE``.
    """
    n = accounts.n
    win_start = cycles.start - P.INTENT_LEAD_DAYS
    win_len = cycles.end - win_start + 1
    per_cycle = rng.poisson(win_len / P.INTENT_CYCLE_EVERY_DAYS)
    cyc_acc = np.repeat(cycles.account, per_cycle)
    cyc_day = np.repeat(win_start, per_cycle) + (
        rng.random(cyc_acc.size) * np.repeat(win_len, per_cycle)
    ).astype(np.int64)
    cyc_val = np.clip(np.round(rng.normal(68, 14, cyc_acc.size)), 30, 100)
    bg_acc = np.repeat(np.arange(n), rng.poisson(P.N_SIM_DAYS / P.INTENT_BACKGROUND_EVERY_DAYS, n))
    bg_day = rng.integers(0, P.N_SIM_DAYS, bg_acc.size)
    bg_val = np.clip(np.round(rng.normal(28, 12, bg_acc.size)), 1, 70)
    acc = np.concatenate([cyc_acc, bg_acc])
    day = np.concatenate([cyc_day, bg_day])
    val = np.concatenate([cyc_val, bg_val]).astype(np.int64)
    keep = (day >= 0) & (day < P.N_SIM_DAYS)
    acc, day, val = acc[keep], day[keep], val[keep]
    primary = rng.integers(0, len(P.INTENT_TOPICS), n)
    topic = np.where(
        rng.random(acc.size) < P.INTENT_PRIMARY_TOPIC_SHARE,
        primary[acc],
        rng.integers(0, len(P.INTENT_TOPICS), acc.size),
    )
    return Events(acc, day, topic, val)
