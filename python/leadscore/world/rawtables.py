"""Assemble the six raw tables and the ground-truth tables from the simulated world."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadscore.world import params as P
from leadscore.world.accounts import COUNTRY_NAMES, Accounts, Cycles, Events
from leadscore.world.activity import EventLog, TouchLog, campaign_vocabulary
from leadscore.world.hazard import AS_OF_DAYS, MATURED, AccountTruth, Opportunities
from leadscore.world.leads import Leads, title_vocabulary
from leadscore.world.sampling import seconds_in_day
from leadscore.world.table import NULL_TS, Table, date_sql, key_sql, ts_sql

PREFIX = {
    "accounts": "AC",
    "leads": "LD",
    "activities": "AV",
    "touchpoints": "TP",
    "opportunities": "OP",
    "account_signals": "SG",
}
SIGNAL_TYPES = ("intent_surge", "funding_round", "hiring_surge", "technology_install")
SIGNAL_TOPICS = (*P.INTENT_TOPICS, *P.FUNDING_ROUNDS, *P.DEPARTMENTS, *P.TECHNOLOGIES)
STAGES = (*P.OPEN_STAGES, "Closed Won", "Closed Lost")


@dataclass(frozen=True)
class Keys:
    """Zero-padded width of the key of every raw table."""

    widths: dict[str, int]

    def sql(self, table: str, column: str) -> str:
        """SQL rendering integer ``column`` as a key of ``table``."""
        return key_sql(column, PREFIX[table], self.widths[table])


def _ids(n: int) -> np.ndarray:
    """Keys 1..n."""
    return np.arange(1, n + 1, dtype=np.int64)


def accounts_table(accounts: Accounts, keys: Keys) -> Table:
    """The ``accounts`` raw table."""
    n = accounts.n
    cols = {
        "id": _ids(n),
        "name": np.arange(n),
        "domain": np.arange(n),
        "industry": accounts.industry,
        "employees": accounts.employees,
        "revenue": accounts.revenue,
        "region": accounts.region,
        "country": accounts.country,
        "created": accounts.created_s,
    }
    select = [
        ("account_id", keys.sql("accounts", "id")),
        ("account_name", "name"),
        ("domain", "domain"),
        ("industry", "industry"),
        ("employee_count", "cast(employees as varchar)"),
        ("annual_revenue", "cast(cast(revenue as decimal(18, 2)) as varchar)"),
        ("region", "region"),
        ("country", "country"),
        ("created_at", ts_sql("created")),
    ]
    dicts = {
        "name": list(accounts.name),
        "domain": list(accounts.domain),
        "industry": list(P.INDUSTRIES),
        "region": list(P.REGIONS),
        "country": list(COUNTRY_NAMES),
    }
    return Table("accounts", cols, select, dicts, ("created",))


def leads_table(leads: Leads, accounts: Accounts, keys: Keys) -> Table:
    """The ``leads`` raw table (emails are built in SQL from the name parts)."""
    titles = title_vocabulary()
    empty = np.asarray([t == "" for t in titles])
    title = np.where(empty[leads.title], -1, leads.title)
    cols = {
        "id": _ids(leads.n),
        "account": np.where(leads.account >= 0, leads.account + 1, -1),
        "mail_domain": leads.mail_domain,
        "mail_number": leads.mail_number,
        "first": leads.first,
        "last": leads.last,
        "title": title,
        "source": leads.source,
        "created": leads.created_s,
    }
    local = (
        "regexp_replace(lower(first), '[^a-z]', '', 'g') || '.' || "
        "regexp_replace(lower(last), '[^a-z]', '', 'g') || "
        "case when mail_number >= 0 then cast(mail_number as varchar) else '' end"
    )
    select = [
        ("lead_id", keys.sql("leads", "id")),
        ("account_id", keys.sql("accounts", "account")),
        ("email", f"{local} || '@' || mail_domain"),
        ("first_name", "first"),
        ("last_name", "last"),
        ("job_title", "title"),
        ("lead_source", "source"),
        ("created_at", ts_sql("created")),
    ]
    dicts = {
        "mail_domain": [*accounts.domain, *P.FREE_MAIL_DOMAINS],
        "first": list(P.FIRST_NAMES),
        "last": list(P.LAST_NAMES),
        "title": titles,
        "source": list(P.LEAD_SOURCES),
    }
    return Table("leads", cols, select, dicts, ("created",))


def activities_table(events: EventLog, keys: Keys) -> Table:
    """The ``activities`` raw table."""
    cols = {
        "id": _ids(events.lead.size),
        "lead": events.lead.astype(np.int64) + 1,
        "kind": events.kind,
        "page": events.detail,
        "occurred": events.ts,
    }
    select = [
        ("activity_id", keys.sql("activities", "id")),
        ("lead_id", keys.sql("leads", "lead")),
        ("activity_type", "kind"),
        ("page_category", "page"),
        ("occurred_at", ts_sql("occurred")),
    ]
    dicts = {"kind": list(P.ACTIVITY_TYPES), "page": list(P.PAGE_CATEGORIES)}
    return Table("activities", cols, select, dicts, ("occurred",))


def touchpoints_table(touches: TouchLog, keys: Keys) -> Table:
    """The ``touchpoints`` raw table (touches after the export are dropped)."""
    keep = touches.ts < P.N_DAYS * P.SECONDS_PER_DAY
    cols = {
        "id": _ids(int(keep.sum())),
        "lead": touches.lead[keep].astype(np.int64) + 1,
        "raw": touches.raw[keep],
        "campaign": touches.campaign[keep],
        "touched": touches.ts[keep],
    }
    select = [
        ("touchpoint_id", keys.sql("touchpoints", "id")),
        ("lead_id", keys.sql("leads", "lead")),
        ("channel", "raw"),
        ("campaign", "campaign"),
        ("touched_at", ts_sql("touched")),
    ]
    dicts = {"raw": list(P.RAW_CHANNELS), "campaign": campaign_vocabulary()}
    return Table("touchpoints", cols, select, dicts, ("touched",))


def opportunities_table(opps: Opportunities, keys: Keys) -> Table:
    """The ``opportunities`` raw table: those opened before the export, as seen then."""
    keep = opps.day < P.N_DAYS
    day, close_day = opps.day[keep], opps.close_day[keep]
    closed = close_day < P.N_DAYS
    won = opps.won[keep]
    progress = (P.N_DAYS - day) / (close_day - day)
    open_stage = np.minimum((progress * len(P.OPEN_STAGES)).astype(np.int64), 3)
    stage = np.where(closed, np.where(won, 4, 5), open_stage)
    cols = {
        "id": _ids(int(keep.sum())),
        "account": opps.account[keep] + 1,
        "lead": np.where(opps.lead[keep] >= 0, opps.lead[keep] + 1, -1),
        "created": opps.created_s[keep],
        "closed": np.where(closed, opps.closed_s[keep], NULL_TS),
        "stage": stage,
        "amount": opps.amount[keep],
        "won": np.where(closed, won.astype(np.int8), -1).astype(np.int8),
    }
    select = [
        ("opportunity_id", keys.sql("opportunities", "id")),
        ("account_id", keys.sql("accounts", "account")),
        ("lead_id", keys.sql("leads", "lead")),
        ("created_at", ts_sql("created")),
        ("closed_at", ts_sql("closed")),
        ("stage", "stage"),
        ("amount", "cast(cast(amount as decimal(18, 2)) as varchar)"),
        ("is_won", "case won when 1 then 'true' when 0 then 'false' end"),
    ]
    return Table("opportunities", cols, select, {"stage": list(STAGES)}, ("created", "closed"))


def signals_table(
    rng: np.random.Generator, kinds: tuple[Events, Events, Events, Events], keys: Keys
) -> Table:
    """The ``account_signals`` raw table from (intent, funding, hiring, installs)."""
    offsets = np.cumsum([0, len(P.INTENT_TOPICS), len(P.FUNDING_ROUNDS), len(P.DEPARTMENTS)])
    account = np.concatenate([e.account for e in kinds])
    day = np.concatenate([e.day for e in kinds])
    kind = np.concatenate([np.full(e.account.size, i, np.int8) for i, e in enumerate(kinds)])
    topic = np.concatenate([e.topic + offsets[i] for i, e in enumerate(kinds)])
    value = np.concatenate([e.value for e in kinds])
    keep = day < P.N_DAYS
    ts = day[keep] * P.SECONDS_PER_DAY + seconds_in_day(rng, int(keep.sum()))
    order = np.argsort(ts, kind="stable")
    cols = {
        "id": _ids(order.size),
        "account": account[keep][order] + 1,
        "kind": kind[keep][order],
        "topic": topic[keep][order],
        "value": value[keep][order],
        "observed": ts[order],
    }
    select = [
        ("signal_id", keys.sql("account_signals", "id")),
        ("account_id", keys.sql("accounts", "account")),
        ("signal_type", "kind"),
        ("topic", "topic"),
        ("signal_value", "cast(value as varchar)"),
        ("observed_at", ts_sql("observed")),
    ]
    dicts = {"kind": list(SIGNAL_TYPES), "topic": list(SIGNAL_TOPICS)}
    return Table("account_signals", cols, select, dicts, ("observed",))


def account_truth_table(truth: AccountTruth, keys: Keys) -> Table:
    """``ground_truth/account_truth``: one row per account and Monday as-of date."""
    n, m = truth.p_open.shape
    cols = {
        "id": np.repeat(np.arange(1, n + 1, dtype=np.int64), m),
        "as_of": np.tile(AS_OF_DAYS, n),
        "p_open": truth.p_open.ravel(),
        "has_open": truth.has_open.ravel(),
        "opened": truth.opened.ravel(),
        "matured": np.tile(MATURED, n),
    }
    select = [
        ("account_id", keys.sql("accounts", "id")),
        ("as_of_date", date_sql("as_of")),
        ("p_open_90d", "format('{:.6f}', p_open)"),
        ("has_open_opportunity", "cast(has_open as varchar)"),
        ("opened_within_90d", "cast(opened as varchar)"),
        ("is_matured", "cast(matured as varchar)"),
    ]
    return Table("account_truth", cols, select)


def channel_effects_table() -> Table:
    """``ground_truth/channel_effects``: the true log-hazard effect of each channel."""
    n = len(P.CHANNELS)
    cols = {
        "id": np.arange(n),
        "channel": np.arange(n),
        "effect": np.asarray(P.CHANNEL_EFFECTS),
        "description": np.arange(n),
    }
    select = [
        ("channel", "channel"),
        ("true_effect", "format('{:.2f}', effect)"),
        ("description", "description"),
    ]
    dicts = {"channel": list(P.CHANNELS), "description": list(P.CHANNEL_DESCRIPTIONS)}
    return Table("channel_effects", cols, select, dicts)


def in_market_table(cycles: Cycles, keys: Keys) -> Table:
    """``ground_truth/in_market_periods``: every simulated buying cycle (inclusive dates)."""
    cols = {
        "id": np.arange(cycles.account.size),
        "account": cycles.account + 1,
        "start_day": cycles.start,
        "end_day": cycles.end,
    }
    select = [
        ("account_id", keys.sql("accounts", "account")),
        ("start_date", date_sql("start_day")),
        ("end_date", date_sql("end_day")),
    ]
    return Table("in_market_periods", cols, select)


def lead_roles_table(leads: Leads, keys: Keys) -> Table:
    """``ground_truth/lead_roles``: the true committee role of every lead."""
    cols = {
        "id": _ids(leads.n),
        "account": np.where(leads.account >= 0, leads.account + 1, -1),
        "role": leads.role.astype(np.int64),
    }
    select = [
        ("lead_id", keys.sql("leads", "id")),
        ("account_id", keys.sql("accounts", "account")),
        ("true_committee_role", "role"),
    ]
    return Table("lead_roles", cols, select, {"role": [*P.ROLES, "none"]})
