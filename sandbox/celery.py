"""The sandbox's Celery app.

By default it uses kombu's filesystem transport, a broker that needs no server, so the
README's first command runs a worker on a fresh machine; ``CELERY_BROKER_URL`` switches it
to Redis or RabbitMQ.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")

app = Celery("sandbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
