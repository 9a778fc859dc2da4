"""Reads for the staff dashboard.

Every figure is aggregated by the database: grouped and filtered counts,
averages and percentiles (see ``dashboard.aggregates``). Python only lays the
aggregated rows (at most one per day, category, version or merchant) onto the
calendar and into the shape Chart.js draws.

The modules: ``period`` (the days shown), ``scope`` (the querysets of one
period and merchant, and the aggregates several charts share), one module per
group of charts (``volume``, ``quality``, ``review``, ``health``) and ``board``
(the whole dashboard, or one chart). The rows come from the other apps'
selectors (catalog's images and categories, classification's predictions and
reviews, accounts' merchants); this package reads no other app's models.

Definitions used throughout:

- A figure about predictions counts the predictions written in the period, with
  what reviewers have decided about them so far (uploads count on their upload
  day; the backlog counts decisions on the day they were made).
- A *classification* is a prediction the model answered (it has a confidence);
  a *failure* is one it could not (no confidence), even if a reviewer later gave
  the photo a category.
- A classification was *sent to review* if it waits for a reviewer or one
  decided it (accepted or corrected); the review service also lets reviewers
  overrule an automatic acceptance, and such a rare prediction counts as sent to
  review. The *auto-accept rate* is the share of classifications still accepted
  automatically.
- *Live precision* is accepted / (accepted + corrected) over the classifications
  reviewers decided. It measures the model on the predictions it was unsure
  about, so it reads lower than offline accuracy. The category a reviewer
  settled on is the prediction's own when accepted, the review's final category
  when corrected.
- The *review backlog* on a day is the number of predictions waiting for a
  reviewer at the end of that day (now, for today). A prediction joins the
  backlog when it is written and sent to review, and leaves it at its accepting
  or correcting review (a decision is final: the review service refuses a
  second one), or, if nobody reviewed it, when a newer prediction of the same
  image replaced it.
"""

from dashboard.selectors.board import CHARTS, dashboard_chart, dashboard_data
from dashboard.selectors.period import Period

__all__ = ["CHARTS", "Period", "dashboard_chart", "dashboard_data"]
