"""A demo Oscar shop with django-oscar-gpt installed."""

from .celery import app as celery_app

__all__ = ["celery_app"]
