"""The synthetic B2B world behind ``leadscore generate``.

The simulation runs in this order, each step vectorized with numpy:

1. accounts with a latent fit (:mod:`.accounts`), their funding rounds, hiring surges and
   technology installs, then their buying cycles (a daily loop over accounts) and the
   intent surges that precede and accompany the cycles;
2. leads: buying committees plus free-mail sign-ups, and the day each lead engages in
   each cycle (:mod:`.leads`);
3. activities and touchpoints of each lead, sampled by inverse CDF from daily intensities
   in blocks of leads (:mod:`.activity`);
4. the known daily opportunity hazard of each account, its intercept calibrated to the
   target conversion rate, the opportunities (a daily loop) and the ground truth
   (:mod:`.hazard`);
5. the raw tables with injected bad rows, written with DuckDB (:mod:`.rawtables`,
   :mod:`.badrows`, :mod:`.writer`).
"""

from leadscore.world.build import generate_world

__all__ = ["generate_world"]
