"""The Celery application.

With no ``CELERY_BROKER_URL`` the settings make tasks run in-process (eager), so
the embedded stack needs no broker. Inference and training use their own queues.
"""

import os

from celery import Celery

from config.hardware import prefer_passive_waits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before any task module loads PyTorch, in this process and the pool's children.
prefer_passive_waits()

app = Celery("vitrine")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
