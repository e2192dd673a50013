"""Vectorized sampling helpers shared by the simulation steps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from leadscore.world import params as P


def categorical(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    """Draw ``size`` indexes from one fixed categorical distribution.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    weights : sequence of float
        Unnormalized weights.
    size : int
        Number of draws.

    Returns
    -------
    numpy.ndarray
        ``int64`` indexes into ``weights``.
    """
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


def categorical_rows(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one index per element of ``rows`` from the distribution ``table[rows]``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    table : numpy.ndarray
        ``(n_groups, n_categories)`` unnormalized weights.
    rows : numpy.ndarray
        Group index of every draw.

    Returns
    -------
    numpy.ndarray
        ``int64`` category index of every draw.
    """
    w = np.asarray(table, dtype=np.float64)
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0 + 1e-12
    u = rng.random(rows.size)
    return (u[:, None] >= cum[rows]).sum(axis=1).astype(np.int64)


def sample_days(
    rng: np.random.Generator, intensity: np.ndarray, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sample event days from per-row daily intensities by inverse CDF.

    One cumulative sum runs over the flattened ``(rows, days)`` array, so each row owns
    the interval between its first and last cumulative value; a draw is placed at
    ``row start + uniform * row total`` and located with one ``np.searchsorted``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    intensity : numpy.ndarray
        ``(n_rows, n_days)`` non-negative daily intensities.
    counts : numpy.ndarray, optional
        Number of events of each row; by default Poisson with the row's total intensity.

    Returns
    -------
    rows : numpy.ndarray
        ``int64`` row of every event.
    days : numpy.ndarray
        ``int64`` day of every event.
    """
    n_rows, n_days = intensity.shape
    cum = intensity.astype(np.float64).ravel()
    np.cumsum(cum, out=cum)
    row_end = cum[n_days - 1 :: n_days]
    row_start = np.concatenate([[0.0], row_end[:-1]])
    total = row_end - row_start
    if counts is None:
        counts = rng.poisson(np.maximum(total, 0.0))
    rows = np.repeat(np.arange(n_rows), counts)
    u = row_start[rows] + rng.random(rows.size) * total[rows]
    u.sort()  # rows stay in order (their intervals are disjoint); sorted keys search faster
    flat = np.searchsorted(cum, u, side="right")
    days = np.clip(flat - rows * n_days, 0, n_days - 1)
    return rows, days


def seconds_in_day(
    rng: np.random.Generator, size: int, hour_weights: Sequence[float] = P.HOUR_WEIGHTS
) -> np.ndarray:
    """Draw a time of day in seconds, hours weighted like a working day.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    size : int
        Number of draws.
    hour_weights : sequence of float
        Weight of each of the 24 hours.

    Returns
    -------
    numpy.ndarray
        ``int64`` seconds after midnight.
    """
    hours = categorical(rng, hour_weights, size).astype(np.int64)
    return hours * 3600 + rng.integers(0, 3600, size)


def occurrence_index(*keys: np.ndarray) -> np.ndarray:
    """Number each row by how many earlier rows share its key (0 for the first).

    Parameters
    ----------
    *keys : numpy.ndarray
        Integer key columns of equal length.

    Returns
    -------
    numpy.ndarray
        ``int64`` occurrence number of every row, in the original row order.
    """
    n = keys[0].size
    order = np.lexsort((np.arange(n), *keys[::-1]))
    stacked = np.stack([k[order] for k in keys])
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (stacked[:, 1:] != stacked[:, :-1]).any(axis=0)
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    occurrence = np.empty(n, dtype=np.int64)
    occurrence[order] = np.arange(n) - group_start
    return occurrence


def cumsum_days(a: np.ndarray) -> np.ndarray:
    """Cumulative sum down axis 0, in place, one row at a time.

    Row by row is ~30x faster than ``np.cumsum(axis=0)`` on wide day-by-account arrays.
    """
    for d in range(1, a.shape[0]):
        np.add(a[d], a[d - 1], out=a[d])
    return a
