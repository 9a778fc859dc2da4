"""The classification admin, one module per concern.

Django's admin autodiscovery imports this package; importing the modules below
registers their admins. ``queue``: the review queue (its filters in
``queue_filters``); ``versions``: model versions and training, with the
``activation`` and ``thresholds`` pages; ``jobs``: background jobs;
``records``: predictions and reviews; ``presenters``: the HTML fragments the
others show.
"""

from classification.admin import jobs, queue, records, versions

__all__ = ["jobs", "queue", "records", "versions"]
