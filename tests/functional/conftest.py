"""Fixtures shared by the functional tests."""

import pytest
from django.contrib.auth.models import Permission


@pytest.fixture
def fresh_rate_limits():
    """Throttle counts live in the cache, shared by every test in the process."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def eager_celery():
    from sandbox.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def manager(client, django_user_model):
    user = django_user_model.objects.create_user("ml", "ml@example.com", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_finetuning"))
    client.force_login(user)
    return user


@pytest.fixture
def queued(monkeypatch):
    """The Q&A tasks that would have been queued (question ids), none sent to a broker."""
    from oscar_gpt.qa import service

    sent = []
    monkeypatch.setattr(service, "_enqueue", sent.append)
    return sent
