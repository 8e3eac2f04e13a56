"""Rate limits on shopper-facing endpoints: DRF's throttles, with rates from
``OSCAR_GPT["RATE_LIMITS"]``, used by the DRF API and by the plain Django views alike.

A limit is per IP address (``*_ip``), per session (``*_session``; a shopper without a
session yet counts by IP) and, for signed-in shoppers, per user (``*_user``, when set).

The address is ``REMOTE_ADDR``: a client's own ``X-Forwarded-For`` header is believed only
behind proxies the shop declares with ``REST_FRAMEWORK["NUM_PROXIES"]`` (DRF's setting; set
it to the number of reverse proxies in front of Django, e.g. 1 behind nginx). Left unset,
DRF would take any address a client writes into that header, and one client could ask
without limit.

The Q&A ask limits also tell :mod:`oscar_gpt.middleware` which address or session they
refused and for how long, so that middleware (optional) can refuse that client's next asks
before Django does any work.
"""

from __future__ import annotations

import math

from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from .app_settings import app_settings


def client_ip(request) -> str:
    """The address the per-IP limits count: ``REMOTE_ADDR`` unless proxies are declared."""
    if api_settings.NUM_PROXIES is None:  # no declared proxy: the header is the client's
        return request.META.get("REMOTE_ADDR", "")
    return BaseThrottle.get_ident(None, request)


class _SettingsRateThrottle(SimpleRateThrottle):
    #: The ``RATE_LIMITS`` key, e.g. "qa_ip".
    scope = ""
    #: Tell :mod:`oscar_gpt.middleware` when this limit refuses (its cache key and the wait).
    remember_refusals = False

    def get_rate(self):
        return app_settings.RATE_LIMITS.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        return super().allow_request(request, view)

    def __init__(self):
        # DRF reads the rate once, at construction; settings may change under tests.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_ident(self, request):
        return client_ip(request)

    def throttle_failure(self):
        # Called by allow_request() with self.key, self.history and self.now set, for DRF's
        # views and check() alike. wait() is exact here: no request under this key can be
        # let through before the oldest one counted leaves the window.
        if self.remember_refusals:
            wait = self.wait()
            if wait is not None and wait > 0:
                from .middleware import REFUSED  # it imports this module

                if REFUSED.active:  # the middleware is installed
                    REFUSED.refuse(self.key, wait)
        return super().throttle_failure()


class IPThrottle(_SettingsRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def session_ident(session_key: str | None, request) -> str:
    """What the per-session limits count a request under: its session, or (none yet) its
    address."""
    return f"s:{session_key}" if session_key else f"ip:{client_ip(request)}"


class SessionThrottle(_SettingsRateThrottle):
    def get_cache_key(self, request, view):
        session = getattr(request, "session", None)
        key = session.session_key if session is not None else None
        return self.cache_format % {"scope": self.scope, "ident": session_ident(key, request)}


class UserThrottle(_SettingsRateThrottle):
    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


def throttles_for(name: str, remember_refusals: bool = False) -> list[type[_SettingsRateThrottle]]:
    """The throttle classes of one endpoint family: ``throttles_for("qa")``.

    ``remember_refusals``: the per-IP and per-session limits record each refusal for
    :class:`oscar_gpt.middleware.RateLimitedClientsMiddleware` (users need the database)."""
    classes = []
    for kind, base in (("ip", IPThrottle), ("session", SessionThrottle), ("user", UserThrottle)):
        attrs = {
            "scope": f"{name}_{kind}",
            "remember_refusals": remember_refusals and kind in ("ip", "session"),
        }
        classes.append(type(f"{name.title()}{kind.title()}Throttle", (base,), attrs))
    return classes


QA_THROTTLES = throttles_for("qa", remember_refusals=True)
REPORT_THROTTLES = throttles_for("qa_report")
FINDER_THROTTLES = throttles_for("finder")


def check(request, throttle_classes) -> float | None:
    """For plain Django views: None when the request may go on, else seconds to wait."""
    waits = []
    for throttle_class in throttle_classes:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None


def count_new_session(request, throttle_classes) -> None:
    """A request let through before it had a session was counted by its address; once the
    view has made the session, count the request against the session's limits too."""
    session = getattr(request, "session", None)
    key = session.session_key if session is not None else None
    if not key:
        return
    for throttle_class in throttle_classes:
        if not issubclass(throttle_class, SessionThrottle):
            continue
        throttle = throttle_class()
        if throttle.rate is None:
            continue
        cache_key = throttle.cache_format % {"scope": throttle.scope, "ident": f"s:{key}"}
        history = throttle.cache.get(cache_key, [])
        history.insert(0, throttle.timer())
        throttle.cache.set(cache_key, history, throttle.duration)


def too_many_requests(wait: float) -> HttpResponse:
    response = HttpResponse(
        _("Too many requests. Please try again in %(seconds)d seconds.")
        % {"seconds": math.ceil(wait)},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(math.ceil(wait))
    return response
