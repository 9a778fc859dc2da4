"""The Celery application.

With no ``CELERY_BROKER_URL`` the settings make tasks run in-process (eager), so
the embedded stack needs no broker. Inference and training use their own queues.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vitrine")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
