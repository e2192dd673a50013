"""Account probabilities calibrated on account outcomes, with their reasons.

Thin by design: leadscore.account_scores.score_accounts fits a small deterministic logistic
regression on the matured history rows of int_account_score_inputs_joined (each account's
best lead probability, warm leads and buying-committee engagement, against whether the
account opened an opportunity within the horizon) and scores the scoring-date rows. pytest
covers it (dbt unit tests do not run on Python models).
"""

from leadscore.account_scores import score_accounts
from leadscore.score import relation_sql


def model(dbt, session):
    dbt.config(materialized="table")
    return score_accounts(session, relation_sql(dbt.ref("int_account_score_inputs_joined")))
