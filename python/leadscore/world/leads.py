"""Leads: buying committees of the accounts plus free-mail sign-ups, and their engagement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadscore.world import params as P
from leadscore.world.accounts import NO_CYCLE, Accounts, Cycles
from leadscore.world.sampling import (
    categorical,
    categorical_rows,
    cumsum_days,
    occurrence_index,
    sample_days,
    seconds_in_day,
)

NEVER = np.int32(1_000_000)  # a day after everything (unsubscribe never happens)


def _title_vocabulary() -> tuple[tuple[str, ...], dict[str, int]]:
    """Base job titles in a fixed order, and the offset of each family."""
    families = {
        "executive_sponsor": list(P.EXECUTIVE_TITLES),
        "decision_maker": [
            t.format(D=d) for t in P.DECISION_MAKER_TEMPLATES for d in P.DEPARTMENTS
        ],
        "champion": [t.format(D=d) for t in P.CHAMPION_TEMPLATES for d in P.DEPARTMENTS],
        "influencer": [t.format(D=d) for t in P.INFLUENCER_TEMPLATES for d in P.DEPARTMENTS],
        "practitioner": list(P.PRACTITIONER_TITLES),
        "procurement": list(P.PROCUREMENT_TITLES),
        "extra": list(P.NO_ACCOUNT_EXTRA_TITLES),
    }
    titles: list[str] = []
    offsets: dict[str, int] = {}
    for family, items in families.items():
        offsets[family] = len(titles)
        titles.extend(items)
    return tuple(titles), offsets


BASE_TITLES, TITLE_OFFSETS = _title_vocabulary()
N_TITLE_VARIANTS = 6


def title_vocabulary() -> list[str]:
    """Every written job title: each base title in its clean and five noisy variants."""
    out: list[str] = []
    for t in BASE_TITLES:
        out.extend([t, t.lower(), "  " + t, t + " ", t.upper(), t.replace(" ", "  ", 1)])
    return out


@dataclass
class Leads:
    """The leads table plus each lead's latent role, propensities and engagement."""

    account: np.ndarray  # int64, -1 without an account
    role: np.ndarray  # int8 index into ROLES, NO_ROLE without an account
    title: np.ndarray  # index into title_vocabulary()
    first: np.ndarray
    last: np.ndarray
    mail_domain: np.ndarray  # index into account domains, then FREE_MAIL_DOMAINS
    mail_number: np.ndarray  # number appended to the mailbox, -1 for none
    source: np.ndarray
    created_s: np.ndarray
    created_day: np.ndarray
    propensity: np.ndarray
    open_propensity: np.ndarray
    touch_propensity: np.ndarray
    unsubscribe_day: np.ndarray
    bad_email: np.ndarray
    engage_start: np.ndarray  # (n, MAX_CYCLES) int16: day the lead engages in cycle k

    @property
    def n(self) -> int:
        """Number of leads."""
        return int(self.account.size)


def make_leads(rng: np.random.Generator, accounts: Accounts, cycles: Cycles, n_leads: int) -> Leads:
    """Draw committees, titles, names, creation times and engagement for ``n_leads`` leads.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    accounts : Accounts
        The accounts.
    cycles : Cycles
        Their buying cycles (leads are created more often while an account is in market).
    n_leads : int
        Total number of leads, with and without an account.

    Returns
    -------
    Leads
        Leads ordered by creation time (the CRM key order).
    """
    n_free = round(P.NO_ACCOUNT_SHARE * n_leads)
    n_acc_leads = n_leads - n_free
    weights = accounts.employees.astype(np.float64) ** 0.3
    sizes = 1 + rng.multinomial(n_acc_leads - accounts.n, weights / weights.sum())
    account = np.concatenate([np.repeat(np.arange(accounts.n), sizes), np.full(n_free, -1)])
    role = np.concatenate(
        [categorical(rng, P.ROLE_WEIGHTS, n_acc_leads), np.full(n_free, P.NO_ROLE, np.int16)]
    ).astype(np.int8)
    created_day = np.concatenate(
        [_account_lead_days(rng, cycles, sizes), _free_lead_days(rng, n_free)]
    )
    created_s = created_day * P.SECONDS_PER_DAY + seconds_in_day(rng, n_leads)
    order = np.argsort(created_s, kind="stable")
    account, role, created_day, created_s = (
        account[order],
        role[order],
        created_day[order],
        created_s[order],
    )
    first = rng.integers(0, len(P.FIRST_NAMES), n_leads)
    last = rng.integers(0, len(P.LAST_NAMES), n_leads)
    mail_domain, mail_number = _mailboxes(rng, accounts.n, account, first, last)
    propensity = rng.lognormal(-0.5 * P.LEAD_PROPENSITY_SD**2, P.LEAD_PROPENSITY_SD, n_leads)
    unsubscribe_prob = np.where(propensity < 1.0, *P.UNSUBSCRIBE_PROB)
    unsub_at = created_day + 1 + (rng.random(n_leads) * (P.N_DAYS - created_day)).astype(np.int64)
    sd_open, sd_touch = P.OPEN_PROPENSITY_SD, P.TOUCH_PROPENSITY_SD
    return Leads(
        account=account,
        role=role,
        title=_titles(rng, role),
        first=first,
        last=last,
        mail_domain=mail_domain,
        mail_number=mail_number,
        source=categorical_rows(rng, np.asarray(P.LEAD_SOURCE_WEIGHTS), role),
        created_s=created_s,
        created_day=created_day,
        propensity=propensity * np.asarray(P.ROLE_ACTIVITY_MULT)[role],
        open_propensity=rng.lognormal(-0.5 * sd_open**2, sd_open, n_leads),
        touch_propensity=rng.lognormal(-0.5 * sd_touch**2, sd_touch, n_leads),
        unsubscribe_day=np.where(rng.random(n_leads) < unsubscribe_prob, unsub_at, NEVER),
        bad_email=rng.random(n_leads) < P.BAD_EMAIL_SHARE,
        engage_start=_engagement(rng, account, role, created_day, cycles),
    )


def _account_lead_days(rng: np.random.Generator, cycles: Cycles, sizes: np.ndarray) -> np.ndarray:
    """Creation day of account leads: intensity ``1 + boost * in_market`` over the history."""
    days = np.empty(int(sizes.sum()), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n_acc = sizes.size
    for lo in range(0, n_acc, P.ACCOUNT_CHUNK):
        hi = min(lo + P.ACCOUNT_CHUNK, n_acc)
        in_market = cycles.by_account[lo:hi, : P.N_DAYS] >= 0
        intensity = 1.0 + P.LEAD_CREATION_IN_MARKET_BOOST * in_market
        _, d = sample_days(rng, intensity, sizes[lo:hi])
        days[starts[lo] : starts[hi]] = d
    return days


def _free_lead_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Creation day of free-mail leads: a gentle upward trend over the history."""
    trend = 1.0 + 0.5 * np.arange(P.N_DAYS) / P.N_DAYS
    cum = np.cumsum(trend) / trend.sum()
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), P.N_DAYS - 1)


def _titles(rng: np.random.Generator, role: np.ndarray) -> np.ndarray:
    """Index into ``title_vocabulary()``: a title of the role's family, 3% noisy."""
    n = role.size
    dept = categorical(rng, P.DEPARTMENT_WEIGHTS, n).astype(np.int64)
    n_dept = len(P.DEPARTMENTS)
    template = rng.integers(0, 3, n)
    pick = rng.random(n)
    by_role = {
        "executive_sponsor": TITLE_OFFSETS["executive_sponsor"]
        + (pick * len(P.EXECUTIVE_TITLES)).astype(np.int64),
        "decision_maker": TITLE_OFFSETS["decision_maker"] + template * n_dept + dept,
        "champion": TITLE_OFFSETS["champion"] + template * n_dept + dept,
        "influencer": TITLE_OFFSETS["influencer"] + template * n_dept + dept,
        "practitioner": TITLE_OFFSETS["practitioner"]
        + (pick * len(P.PRACTITIONER_TITLES)).astype(np.int64),
        "procurement": TITLE_OFFSETS["procurement"]
        + (pick * len(P.PROCUREMENT_TITLES)).astype(np.int64),
    }
    base = np.zeros(n, dtype=np.int64)
    for r, name in enumerate(P.ROLES):
        base = np.where(role == r, by_role[name], base)
    family = categorical(rng, P.NO_ACCOUNT_TITLE_MIX, n)
    extra = TITLE_OFFSETS["extra"] + (pick * len(P.NO_ACCOUNT_EXTRA_TITLES)).astype(np.int64)
    free_title = np.select(
        [family == 0, family == 1], [by_role["practitioner"], by_role["influencer"]], extra
    )
    base = np.where(role == P.NO_ROLE, free_title, base)
    noisy = rng.random(n) < P.TITLE_NOISE_SHARE
    variant = np.where(noisy, rng.integers(1, N_TITLE_VARIANTS, n), 0)
    return base * N_TITLE_VARIANTS + variant


def _mailboxes(
    rng: np.random.Generator,
    n_accounts: int,
    account: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Email domain (the account's, or a free-mail one) and a de-duplicating number."""
    free = account < 0
    domain = np.where(
        free, n_accounts + categorical(rng, P.FREE_MAIL_WEIGHTS, account.size), account
    )
    base_number = np.where(free, rng.integers(10, 100, account.size), 0)
    occ = occurrence_index(domain, first, last, base_number)
    number = np.where(free, base_number + 100 * occ, np.where(occ > 0, occ + 1, -1))
    return domain, number


def _engagement(
    rng: np.random.Generator,
    account: np.ndarray,
    role: np.ndarray,
    created_day: np.ndarray,
    cycles: Cycles,
) -> np.ndarray:
    """Day each lead engages in each cycle of its account (``NO_CYCLE`` when it does not)."""
    n = account.size
    has_acc = account >= 0
    acc = np.where(has_acc, account, 0)
    r = np.minimum(role, P.NO_ROLE - 1)
    prob = np.asarray(P.ROLE_ENGAGE_PROB)[r]
    lo, hi = np.asarray(P.ROLE_ENGAGE_OFFSET)[r].T
    engage = np.full((n, P.MAX_CYCLES), NO_CYCLE, dtype=np.int16)
    for k in range(P.MAX_CYCLES):
        start = cycles.starts[acc, k].astype(np.int64)
        end = cycles.ends[acc, k].astype(np.int64)
        valid = has_acc & (k < cycles.count[acc])
        created_inside = (created_day >= start) & (created_day <= end)
        p = np.minimum(
            prob * np.where(created_inside, P.ENGAGE_BOOST_IF_CREATED_IN_CYCLE, 1.0), 0.95
        )
        engaged = valid & (rng.random(n) < p)
        frac = lo + (hi - lo) * rng.random(n)
        day = start + (frac * (end - start + 1)).astype(np.int64)
        engage[:, k] = np.where(engaged, day, NO_CYCLE)
    return engage


def engaged_roles_by_day(leads: Leads, cycles: Cycles, n_accounts: int) -> np.ndarray:
    """Distinct committee roles engaged per account and day, among leads that exist.

    A role counts from the first day one of its leads is both engaged in the current cycle
    and already created (the day after its creation) until the cycle ends.

    Returns
    -------
    numpy.ndarray
        ``(N_SIM_DAYS, n_accounts)`` ``int8`` counts.
    """
    n_roles = len(P.ROLES)
    has_acc = leads.account >= 0
    acc = leads.account[has_acc]
    role = leads.role[has_acc].astype(np.int64)
    created = leads.created_day[has_acc].astype(np.int64)
    diff = np.zeros((P.N_SIM_DAYS + 1) * n_accounts, dtype=np.int8)
    for k in range(P.MAX_CYCLES):
        eng = leads.engage_start[has_acc, k].astype(np.int64)
        ok = eng != NO_CYCLE
        eff = np.maximum(eng[ok], created[ok] + 1)
        first = np.full(n_accounts * n_roles, np.iinfo(np.int64).max)
        np.minimum.at(first, acc[ok] * n_roles + role[ok], eff)
        cell = np.flatnonzero(first != np.iinfo(np.int64).max)
        a = cell // n_roles
        begin = np.maximum(first[cell], 0)
        end = np.minimum(cycles.ends[a, k].astype(np.int64) + 1, P.N_SIM_DAYS)
        live = begin < end
        a, begin, end = a[live], begin[live], end[live]
        np.add.at(diff, begin * n_accounts + a, 1)
        np.add.at(diff, end * n_accounts + a, -1)
    return cumsum_days(diff.reshape(P.N_SIM_DAYS + 1, n_accounts))[: P.N_SIM_DAYS]
