"""Rate limits on shopper-facing endpoints: DRF's throttles, with rates from
``OSCAR_GPT["RATE_LIMITS"]``, used by the DRF API and by the plain Django views alike.

A limit is per IP address (``*_ip``), per session (``*_session``; a shopper without a
session yet counts by IP) and, for signed-in shoppers, per user (``*_user``, when set).
"""

from __future__ import annotations

import math

from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle

from .app_settings import app_settings


class _SettingsRateThrottle(SimpleRateThrottle):
    #: The ``RATE_LIMITS`` key, e.g. "qa_ip".
    scope = ""

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


class IPThrottle(_SettingsRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SessionThrottle(_SettingsRateThrottle):
    def get_cache_key(self, request, view):
        session = getattr(request, "session", None)
        key = session.session_key if session is not None else None
        ident = f"s:{key}" if key else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class UserThrottle(_SettingsRateThrottle):
    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


def throttles_for(name: str) -> list[type[_SettingsRateThrottle]]:
    """The throttle classes of one endpoint family: ``throttles_for("qa")``."""
    classes = []
    for kind, base in (("ip", IPThrottle), ("session", SessionThrottle), ("user", UserThrottle)):
        classes.append(
            type(f"{name.title()}{kind.title()}Throttle", (base,), {"scope": f"{name}_{kind}"})
        )
    return classes


QA_THROTTLES = throttles_for("qa")
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


def too_many_requests(wait: float) -> HttpResponse:
    response = HttpResponse(
        _("Too many requests. Please try again in %(seconds)d seconds.")
        % {"seconds": math.ceil(wait)},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(math.ceil(wait))
    return response
