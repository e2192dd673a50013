"""The known opportunity hazard, its calibration, the opportunities and the ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadscore.world import params as P
from leadscore.world.accounts import Accounts, Cycles, Events
from leadscore.world.activity import TouchLog
from leadscore.world.leads import Leads
from leadscore.world.sampling import cumsum_days, seconds_in_day

AS_OF_DAYS = np.arange(P.FIRST_AS_OF_DAY, P.LAST_AS_OF_DAY + 1, 7)
MATURED = AS_OF_DAYS + P.HORIZON_DAYS <= P.N_DAYS


def log_hazard(
    accounts: Accounts,
    cycles: Cycles,
    roles_engaged: np.ndarray,
    intent: Events,
    touches: TouchLog,
    leads: Leads,
) -> np.ndarray:
    """Daily log-hazard of every account without the intercept.

    ``eta[d, a] = HAZARD_FIT_COEF * fit + HAZARD_IN_MARKET_COEF * in_market
    + HAZARD_ROLE_COEF * roles_engaged + HAZARD_INTENT_COEF * intent
    + sum of CHANNEL_EFFECTS of the channels that touched a lead of the account
    in the previous TOUCH_EFFECT_DAYS days``.

    Returns
    -------
    numpy.ndarray
        ``(N_SIM_DAYS, n_accounts)`` ``float32``.
    """
    n = accounts.n
    eta = np.empty((P.N_SIM_DAYS, n), dtype=np.float32)
    fit_term = (P.HAZARD_FIT_COEF * accounts.fit).astype(np.float32)
    decay = 0.5 ** (1.0 / P.INTENT_HALF_LIFE_DAYS)
    level = np.zeros(n)
    order = np.argsort(intent.day, kind="stable")
    bounds = np.searchsorted(intent.day[order], np.arange(P.N_SIM_DAYS + 1))
    for d in range(P.N_SIM_DAYS):
        level *= decay
        if d > 0:
            seen = order[bounds[d - 1] : bounds[d]]
            np.maximum.at(level, intent.account[seen], intent.value[seen] / 100.0)
        eta[d] = (
            fit_term
            + np.float32(P.HAZARD_IN_MARKET_COEF) * (cycles.index[d] >= 0)
            + np.float32(P.HAZARD_ROLE_COEF) * roles_engaged[d]
            + (P.HAZARD_INTENT_COEF * level).astype(np.float32)
        )
    _add_touch_effects(eta, touches, leads)
    return eta


def _add_touch_effects(eta: np.ndarray, touches: TouchLog, leads: Leads) -> None:
    """Add each channel's effect on the days after a touch of that channel (no stacking)."""
    n = eta.shape[1]
    account = leads.account[touches.lead]
    has_acc = account >= 0
    account = account[has_acc]
    day = touches.ts[has_acc] // P.SECONDS_PER_DAY
    channel = np.asarray(P.RAW_TO_CHANNEL)[touches.raw[has_acc]]
    for c, effect in enumerate(P.CHANNEL_EFFECTS):
        mine = channel == c
        diff = np.zeros((P.N_SIM_DAYS + 1) * n, dtype=np.int16)
        np.add.at(diff, (day[mine] + 1) * n + account[mine], 1)
        stop = np.minimum(day[mine] + 1 + P.TOUCH_EFFECT_DAYS, P.N_SIM_DAYS)
        np.add.at(diff, stop * n + account[mine], -1)
        active = cumsum_days(diff.reshape(P.N_SIM_DAYS + 1, n))
        np.add(eta, np.float32(effect), out=eta, where=active[: P.N_SIM_DAYS] > 0)


def window_sums(eta: np.ndarray, alpha: float, first_day: np.ndarray) -> np.ndarray:
    """Sum of the daily hazard rate ``exp(alpha + eta)`` over each as-of window.

    Parameters
    ----------
    eta : numpy.ndarray
        ``(N_SIM_DAYS, n_accounts)`` log-hazard without intercept.
    alpha : float
        Intercept.
    first_day : numpy.ndarray
        ``(n_accounts, n_as_of)`` first day counted in each window (the as-of day, or
        later while an opportunity is still open); windows end at as-of + 90 days.

    Returns
    -------
    numpy.ndarray
        ``(n_accounts, n_as_of)`` ``float64`` sums.
    """
    n = eta.shape[1]
    out = np.empty((n, AS_OF_DAYS.size))
    end = AS_OF_DAYS + P.HORIZON_DAYS
    for lo in range(0, n, P.ACCOUNT_CHUNK):
        hi = min(lo + P.ACCOUNT_CHUNK, n)
        cum = np.zeros((P.N_SIM_DAYS + 1, hi - lo))
        np.exp(alpha + eta[:, lo:hi].astype(np.float64), out=cum[1:])
        cumsum_days(cum)
        cols = np.arange(hi - lo)[:, None]
        start = np.minimum(first_day[lo:hi], end[None, :])
        out[lo:hi] = cum[end[None, :], cols] - cum[start, cols]
    return np.maximum(out, 0.0)


def leads_existing(leads: Leads, n_accounts: int) -> np.ndarray:
    """Number of account leads created before each as-of date, ``(n_accounts, n_as_of)``."""
    has_acc = leads.account >= 0
    key = np.sort(leads.account[has_acc] * (P.N_SIM_DAYS + 1) + leads.created_day[has_acc])
    base = np.arange(n_accounts)[:, None] * (P.N_SIM_DAYS + 1)
    return np.searchsorted(key, base + AS_OF_DAYS[None, :]) - np.searchsorted(key, base)


def calibrate_intercept(eta: np.ndarray, weights: np.ndarray) -> float:
    """Intercept that makes the lead-weighted 90-day open rate equal the target.

    Solves ``sum(w * (1 - exp(-exp(alpha) * S))) / sum(w) = TARGET_CONVERSION_RATE`` over
    matured as-of dates, where ``S`` is the window sum of ``exp(eta)`` and ``w`` the number
    of leads, by safeguarded Newton steps on ``alpha``.
    """
    first_day = np.broadcast_to(AS_OF_DAYS, (eta.shape[1], AS_OF_DAYS.size))
    sums = window_sums(eta, 0.0, first_day)[:, MATURED].ravel()
    w = weights[:, MATURED].ravel().astype(np.float64)
    keep = (w > 0) & (sums > 0)
    sums, w = sums[keep], w[keep] / w[keep].sum()
    target = P.TARGET_CONVERSION_RATE
    lo, hi = -40.0, 10.0
    alpha = float(np.log(target / max(float(w @ sums), 1e-300)))
    for _ in range(100):
        x = np.exp(alpha) * sums
        f = float(w @ -np.expm1(-x)) - target
        if abs(f) < 1e-12:
            break
        lo, hi = (alpha, hi) if f < 0 else (lo, alpha)
        slope = float(w @ (x * np.exp(-x)))
        step = alpha - f / slope if slope > 0 else 0.5 * (lo + hi)
        alpha = step if lo < step < hi else 0.5 * (lo + hi)
    return alpha


@dataclass
class Opportunities:
    """Every simulated opportunity (including those opened after the export)."""

    account: np.ndarray
    day: np.ndarray
    close_day: np.ndarray
    created_s: np.ndarray
    closed_s: np.ndarray
    lead: np.ndarray
    won: np.ndarray
    amount: np.ndarray


def simulate_opportunities(
    rng: np.random.Generator,
    eta: np.ndarray,
    alpha: float,
    accounts: Accounts,
    leads: Leads,
    cycles: Cycles,
) -> Opportunities:
    """Open opportunities day by day with probability ``1 - exp(-exp(alpha + eta))``.

    An account with an open opportunity cannot open another until the day after it
    closes; an opportunity stays open 30-150 days and is won with probability
    ``sigmoid(WIN_INTERCEPT + WIN_FIT_COEF * fit)``.
    """
    n = accounts.n
    blocked_until = np.full(n, -1, dtype=np.int64)
    rec_acc, rec_day, rec_dur = [], [], []
    for d in range(P.N_SIM_DAYS):
        hazard = -np.expm1(-np.exp(alpha + eta[d].astype(np.float64)))
        opened = np.flatnonzero((blocked_until < d) & (rng.random(n) < hazard))
        dur = rng.integers(P.OPP_MIN_DAYS, P.OPP_MAX_DAYS + 1, opened.size)
        blocked_until[opened] = d + dur
        rec_acc.append(opened)
        rec_day.append(np.full(opened.size, d))
        rec_dur.append(dur)
    account = np.concatenate(rec_acc)
    day = np.concatenate(rec_day)
    created_s = day * P.SECONDS_PER_DAY + seconds_in_day(rng, account.size)
    order = np.argsort(created_s, kind="stable")
    account, day, created_s = account[order], day[order], created_s[order]
    close_day = day + np.concatenate(rec_dur)[order]
    closed_s = close_day * P.SECONDS_PER_DAY + seconds_in_day(rng, account.size)
    fit = accounts.fit[account]
    won = rng.random(account.size) < 1.0 / (1.0 + np.exp(-(P.WIN_INTERCEPT + P.WIN_FIT_COEF * fit)))
    size = (accounts.employees[account] / 100.0) ** P.AMOUNT_SIZE_EXPONENT
    amount = np.round(
        P.AMOUNT_BASE_USD * size * rng.lognormal(0.0, P.AMOUNT_SD, account.size), -2
    ).astype(np.int64)
    lead = _credited_leads(rng, leads, cycles, account, day)
    return Opportunities(account, day, close_day, created_s, closed_s, lead, won, amount)


def _credited_leads(
    rng: np.random.Generator,
    leads: Leads,
    cycles: Cycles,
    account: np.ndarray,
    day: np.ndarray,
) -> np.ndarray:
    """The lead an opportunity is credited to: engaged first, then by role priority.

    Candidates are the account's leads created before the opportunity's day; the score is
    ``ROLE_OPP_PRIORITY + 5 * engaged + uniform noise``. ``-1`` when no lead exists yet.
    """
    has_acc = leads.account >= 0
    by_acc = np.flatnonzero(has_acc)[np.argsort(leads.account[has_acc], kind="stable")]
    n_acc = cycles.count.size
    sizes = np.bincount(leads.account[has_acc], minlength=n_acc)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    per_opp = sizes[account]
    opp = np.repeat(np.arange(account.size), per_opp)
    within = np.arange(opp.size) - np.repeat(np.cumsum(per_opp) - per_opp, per_opp)
    lead = by_acc[starts[account[opp]] + within]
    d = day[opp]
    k = cycles.index[np.minimum(d, P.N_SIM_DAYS - 1), account[opp]].astype(np.int64)
    engaged = (k >= 0) & (leads.engage_start[lead, np.maximum(k, 0)] <= d)
    score = np.asarray(P.ROLE_OPP_PRIORITY)[leads.role[lead]] + 5.0 * engaged + rng.random(opp.size)
    score[leads.created_day[lead] >= d] = -np.inf
    best = np.full(account.size, -1, dtype=np.int64)
    if opp.size:
        order = np.lexsort((-score, opp))
        first = order[np.r_[True, opp[order][1:] != opp[order][:-1]]]
        ok = np.isfinite(score[first])
        best[opp[first][ok]] = lead[first][ok]
    return best


@dataclass
class AccountTruth:
    """Ground truth per account and as-of date, ``(n_accounts, n_as_of)`` arrays."""

    p_open: np.ndarray
    has_open: np.ndarray
    opened: np.ndarray


def account_truth(eta: np.ndarray, alpha: float, opps: Opportunities) -> AccountTruth:
    """True 90-day open probability, open-opportunity flag and realized outcome.

    ``p_open_90d = 1 - prod(1 - h(d)) = 1 - exp(-sum(exp(alpha + eta[d])))`` over the
    window days on which the account could open one: all of them, or, when an opportunity
    is open at the as-of date, the days after it closes (its realized close day).
    """
    n = eta.shape[1]
    order = np.lexsort((opps.day, opps.account))
    stride = P.N_SIM_DAYS + 1
    # a sentinel opportunity of no account keeps the lookups below in range
    key = np.concatenate([[-1], opps.account[order] * stride + opps.day[order]])
    close = np.concatenate([[-1], opps.close_day[order]])
    base = np.arange(n)[:, None] * stride
    at = np.searchsorted(key, base + AS_OF_DAYS[None, :])
    latest = at - 1  # the account's latest opportunity opened before the as-of date
    same_account = key[latest] // stride == np.arange(n)[:, None]
    has_open = same_account & (close[latest] >= AS_OF_DAYS[None, :])
    first_day = np.where(has_open, close[latest] + 1, AS_OF_DAYS[None, :])
    stop = np.minimum(AS_OF_DAYS + P.HORIZON_DAYS, P.N_DAYS)
    opened = np.searchsorted(key, base + stop[None, :]) > at
    p_open = -np.expm1(-window_sums(eta, alpha, first_day))
    return AccountTruth(p_open, has_open, opened)


def conversion_rates(
    truth: AccountTruth, weights: np.ndarray, free_leads: np.ndarray
) -> dict[str, float]:
    """Share of (lead, as-of) pairs whose account opens an opportunity within 90 days.

    Over matured as-of dates and accounts without an open opportunity; ``weights`` counts
    the account's leads created before the as-of date and ``free_leads`` the leads without
    an account created before it.
    """
    pick = ~truth.has_open & MATURED[None, :]
    w = np.where(pick, weights, 0).astype(np.float64)
    hits = float((w * truth.opened).sum())
    free = float(free_leads[MATURED].sum())
    return {
        "account_leads": hits / max(w.sum(), 1.0),
        "all_leads": hits / max(w.sum() + free, 1.0),
        "mean_p_open_90d": float((w * truth.p_open).sum() / max(w.sum(), 1.0)),
        "account_as_of_pairs": float(truth.opened[pick].mean()) if pick.any() else 0.0,
    }
