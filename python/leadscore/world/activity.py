"""Marketing activities and touchpoints of every lead, simulated in blocks of leads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from leadscore.world import params as P
from leadscore.world.accounts import Cycles
from leadscore.world.leads import Leads
from leadscore.world.sampling import categorical_rows, sample_days, seconds_in_day

TYPE = {name: i for i, name in enumerate(P.ACTIVITY_TYPES)}
N_MONTHS = 27  # 2024-01 .. 2026-03, the months the simulated days touch
MAX_TEMPLATES = max(len(t) for t in P.CAMPAIGN_TEMPLATES)


@dataclass
class EventLog:
    """Activities (``kind`` = activity type, ``detail`` = page category or -1)."""

    lead: np.ndarray
    ts: np.ndarray
    kind: np.ndarray
    detail: np.ndarray


@dataclass
class TouchLog:
    """Touchpoints (``raw`` = raw channel label, ``campaign`` = campaign name index)."""

    lead: np.ndarray
    ts: np.ndarray
    raw: np.ndarray
    campaign: np.ndarray


def month_of_day() -> np.ndarray:
    """Month index (0 = 2024-01) of every simulated day."""
    months = np.empty(P.N_SIM_DAYS, dtype=np.int64)
    for d in range(P.N_SIM_DAYS):
        day = P.START_DATE + dt.timedelta(days=d)
        months[d] = (day.year - 2024) * 12 + day.month - 1
    return months


def campaign_vocabulary() -> list[str]:
    """Every campaign name, indexed by ``(raw * MAX_TEMPLATES + template) * N_MONTHS + month``."""
    names: list[str] = []
    for templates in P.CAMPAIGN_TEMPLATES:
        for v in range(MAX_TEMPLATES):
            template = templates[v % len(templates)]
            for m in range(N_MONTHS):
                year, month = 2024 + m // 12, m % 12 + 1
                names.append(template.format(y=year, q=(month - 1) // 3 + 1, mm=f"{month:02d}"))
    return names


def _channel_weights() -> np.ndarray:
    """Raw channel weights by ``role * 2 + in_market`` (role 6 = no account)."""
    raw_map = np.asarray(P.RAW_TO_CHANNEL)
    base = np.asarray(P.RAW_CHANNEL_WEIGHTS, dtype=np.float64)
    rows = []
    for role_mult in P.CHANNEL_ROLE_MULT:
        quiet = base * np.asarray(role_mult)[raw_map]
        rows.extend([quiet, quiet * np.asarray(P.CHANNEL_IN_MARKET_MULT)[raw_map]])
    return np.asarray(rows)


def simulate_engagement(
    rng: np.random.Generator, leads: Leads, cycles: Cycles
) -> tuple[EventLog, TouchLog]:
    """Simulate activities (history only) and touchpoints (history plus 90 days).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    leads : Leads
        The leads.
    cycles : Cycles
        Buying cycles of their accounts.

    Returns
    -------
    tuple of EventLog and TouchLog
        Activities sorted by time, and touchpoints sorted by time.
    """
    months = month_of_day()
    channel_weights = _channel_weights()
    events: list[EventLog] = []
    touches: list[TouchLog] = []
    for lo in range(0, leads.n, P.LEAD_CHUNK):
        hi = min(lo + P.LEAD_CHUNK, leads.n)
        state = _lead_state(leads, cycles, lo, hi)
        events.append(_activities(rng, leads, cycles, state, lo, hi))
        touches.append(_touches(rng, leads, state, lo, hi, months, channel_weights))
    return _sorted_events(events), _sorted_touches(touches)


@dataclass
class _State:
    """Daily state of a block of leads: alive, in market, engaged, and cycle index."""

    alive: np.ndarray
    in_market: np.ndarray
    engaged: np.ndarray
    cycle: np.ndarray


def _lead_state(leads: Leads, cycles: Cycles, lo: int, hi: int) -> _State:
    """Build the ``(leads, N_SIM_DAYS)`` state matrices of leads ``lo:hi``."""
    acc = leads.account[lo:hi]
    has_acc = acc >= 0
    days = np.arange(P.N_SIM_DAYS)
    cycle = cycles.by_account[np.where(has_acc, acc, 0)]
    cycle[~has_acc] = -1
    in_market = cycle >= 0
    start = np.take_along_axis(leads.engage_start[lo:hi], np.maximum(cycle, 0), axis=1)
    engaged = in_market & (start <= days)
    alive = days[None, :] > leads.created_day[lo:hi, None]
    return _State(alive, in_market, engaged, cycle)


def _lift(
    in_market: np.ndarray, engaged: np.ndarray, in_market_mult: float, engaged_mult: float
) -> np.ndarray:
    """``1 + in_market_mult * in_market + engaged_mult * engaged`` as ``float32``."""
    lift = np.ones(in_market.shape, dtype=np.float32)
    np.add(lift, np.float32(in_market_mult), out=lift, where=in_market)
    np.add(lift, np.float32(engaged_mult), out=lift, where=engaged)
    return lift


def _activities(
    rng: np.random.Generator, leads: Leads, cycles: Cycles, state: _State, lo: int, hi: int
) -> EventLog:
    """Sends and interest events by inverse CDF, then opens, clicks and attendance."""
    h = P.N_DAYS
    alive, in_market, engaged = state.alive[:, :h], state.in_market[:, :h], state.engaged[:, :h]
    days = np.arange(h)
    unsub = leads.unsubscribe_day[lo:hi, None]
    send = np.where(
        days > unsub,
        np.float32(P.SEND_DAILY * P.SEND_AFTER_UNSUBSCRIBE),
        np.float32(P.SEND_DAILY),
    )
    np.copyto(send, 0.0, where=~alive)
    send[leads.bad_email[lo:hi]] = 0.0
    total = _lift(in_market, engaged, P.INTEREST_IN_MARKET_MULT, P.INTEREST_ENGAGED_MULT)
    total *= (P.INTEREST_DAILY * leads.propensity[lo:hi, None]).astype(np.float32)
    np.copyto(total, 0.0, where=~alive)
    total += send
    rows, day = sample_days(rng, total)
    is_send = rng.random(rows.size) * total[rows, day] < send[rows, day]
    eng = engaged[rows, day]
    inm = in_market[rows, day]
    lead = rows + lo

    s_rows, s_day = rows[is_send], day[is_send]
    send_ts = s_day * P.SECONDS_PER_DAY + seconds_in_day(rng, s_rows.size, P.SEND_HOUR_WEIGHTS)
    open_p = np.minimum(
        leads.open_propensity[lo + s_rows]
        * (P.OPEN_BASE + P.OPEN_IN_MARKET * inm[is_send] + P.OPEN_ENGAGED * eng[is_send]),
        0.9,
    ) * np.where(s_day > leads.unsubscribe_day[lo + s_rows], P.OPEN_AFTER_UNSUBSCRIBE, 1.0)
    opened = rng.random(s_rows.size) < open_p
    open_ts = send_ts[opened] + rng.exponential(4 * 3600, int(opened.sum())).astype(np.int64)
    clicked = rng.random(open_ts.size) < P.CLICK_BASE + P.CLICK_ENGAGED * eng[is_send][opened]
    click_ts = open_ts[clicked] + 20 + rng.exponential(120, int(clicked.sum())).astype(np.int64)

    i_rows = rows[~is_send]
    i_day = day[~is_send]
    phase = _phase(leads, cycles, state, i_rows, i_day, lo)
    group = np.minimum(leads.role[lo + i_rows], P.NO_ROLE).astype(np.int64) * 4 + phase
    mix = np.asarray(P.INTEREST_MIX, dtype=np.float64).reshape(-1, len(P.INTEREST_EVENT_TYPES))
    category = categorical_rows(rng, mix, group)
    i_kind = np.asarray(P.INTEREST_EVENT_TYPES)[category]
    i_page = np.asarray(P.INTEREST_EVENT_PAGES)[category]
    i_ts = i_day * P.SECONDS_PER_DAY + seconds_in_day(rng, i_rows.size)
    reg = i_kind == TYPE["webinar_registration"]
    attend_p = P.ATTEND_BASE + P.ATTEND_ENGAGED * eng[~is_send][reg]
    attended = rng.random(int(reg.sum())) < attend_p
    attend_ts = i_ts[reg][attended] + rng.integers(3, 22, int(attended.sum())) * P.SECONDS_PER_DAY

    unsub_ts, unsub_lead = _single_events(
        rng, leads.unsubscribe_day[lo:hi], ~leads.bad_email[lo:hi], lo
    )
    bounce_day = leads.created_day[lo:hi] + rng.integers(1, 22, hi - lo)
    bounce_ts, bounce_lead = _single_events(rng, bounce_day, leads.bad_email[lo:hi], lo)

    parts = [
        (lead[is_send], send_ts, TYPE["email_send"], -1),
        (lead[is_send][opened], open_ts, TYPE["email_open"], -1),
        (lead[is_send][opened][clicked], click_ts, TYPE["email_click"], -1),
        (lead[~is_send], i_ts, i_kind, i_page),
        (lead[~is_send][reg][attended], attend_ts, TYPE["webinar_attendance"], -1),
        (unsub_lead, unsub_ts, TYPE["unsubscribe"], -1),
        (bounce_lead, bounce_ts, TYPE["email_bounce"], -1),
    ]
    return _concat_events(parts)


def _phase(
    leads: Leads,
    cycles: Cycles,
    state: _State,
    rows: np.ndarray,
    day: np.ndarray,
    lo: int,
) -> np.ndarray:
    """0 out of market, 1 in market not engaged, 2 engaged early, 3 engaged late."""
    k = state.cycle[rows, day].astype(np.int64)
    acc = np.maximum(leads.account[lo + rows], 0)
    start = cycles.starts[acc, np.maximum(k, 0)].astype(np.int64)
    end = cycles.ends[acc, np.maximum(k, 0)].astype(np.int64)
    late = 2 * day >= start + end
    return np.select([k < 0, ~state.engaged[rows, day], late], [0, 1, 3], 2).astype(np.int64)


def _single_events(
    rng: np.random.Generator, day: np.ndarray, eligible: np.ndarray, lo: int
) -> tuple[np.ndarray, np.ndarray]:
    """One event per eligible lead on ``day`` when that day is in the history."""
    keep = eligible & (day < P.N_DAYS)
    idx = np.flatnonzero(keep)
    ts = day[idx].astype(np.int64) * P.SECONDS_PER_DAY + seconds_in_day(rng, idx.size)
    return ts, idx + lo


def _concat_events(parts: list[tuple]) -> EventLog:
    """Stack event parts, dropping those pushed past the end of the history."""
    lead = np.concatenate([p[0] for p in parts]).astype(np.int32)
    ts = np.concatenate([p[1] for p in parts]).astype(np.int64)
    kind = np.concatenate([np.broadcast_to(p[2], p[0].shape) for p in parts]).astype(np.int8)
    detail = np.concatenate([np.broadcast_to(p[3], p[0].shape) for p in parts]).astype(np.int8)
    keep = ts < P.N_DAYS * P.SECONDS_PER_DAY
    return EventLog(lead[keep], ts[keep], kind[keep], detail[keep])


def _touches(
    rng: np.random.Generator,
    leads: Leads,
    state: _State,
    lo: int,
    hi: int,
    months: np.ndarray,
    channel_weights: np.ndarray,
) -> TouchLog:
    """Touchpoints by inverse CDF over the simulated days; channel mix by role and state."""
    rate = _lift(state.in_market, state.engaged, P.TOUCH_IN_MARKET_MULT, P.TOUCH_ENGAGED_MULT)
    rate *= (P.TOUCH_DAILY * leads.touch_propensity[lo:hi, None]).astype(np.float32)
    np.copyto(rate, 0.0, where=~state.alive)
    rows, day = sample_days(rng, rate)
    role = np.minimum(leads.role[lo + rows], P.NO_ROLE).astype(np.int64)
    raw = categorical_rows(rng, channel_weights, role * 2 + state.in_market[rows, day])
    n_templates = np.asarray([len(t) for t in P.CAMPAIGN_TEMPLATES])[raw]
    template = (rng.random(rows.size) * n_templates).astype(np.int64)
    campaign = (raw.astype(np.int64) * MAX_TEMPLATES + template) * N_MONTHS + months[day]
    ts = day * P.SECONDS_PER_DAY + seconds_in_day(rng, rows.size)
    return TouchLog(
        (rows + lo).astype(np.int32), ts, raw.astype(np.int8), campaign.astype(np.int16)
    )


def _sorted_events(parts: list[EventLog]) -> EventLog:
    """Concatenate blocks and order by time, then lead (the key order of the export)."""
    lead = np.concatenate([p.lead for p in parts])
    ts = np.concatenate([p.ts for p in parts])
    order = np.argsort(ts * (int(lead.max(initial=0)) + 1) + lead, kind="stable")
    kind = np.concatenate([p.kind for p in parts])[order]
    detail = np.concatenate([p.detail for p in parts])[order]
    return EventLog(lead[order], ts[order], kind, detail)


def _sorted_touches(parts: list[TouchLog]) -> TouchLog:
    """Concatenate blocks and order by time, then lead."""
    lead = np.concatenate([p.lead for p in parts])
    ts = np.concatenate([p.ts for p in parts])
    order = np.argsort(ts * (int(lead.max(initial=0)) + 1) + lead, kind="stable")
    raw = np.concatenate([p.raw for p in parts])[order]
    campaign = np.concatenate([p.campaign for p in parts])[order]
    return TouchLog(lead[order], ts[order], raw, campaign)
