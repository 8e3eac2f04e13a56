"""Refuse a client the Q&A rate limits have just refused, before Django does any work.

A refused ask still costs a full request: the middleware stack, the session, the product
lookup, the limiter's cache reads (~8 ms of a sync worker). One client firing 1,000
questions in 10 s keeps two web workers busy refusing it, and every other shopper waits
(``bench/load_qa.py``, ``docs/performance.md``). :class:`RateLimitedClientsMiddleware`,
early in ``MIDDLEWARE`` (right after ``SecurityMiddleware``), remembers in each process
which address or session the limits refused and until when, and answers that client's next
asks with the same 429 (the remaining wait in ``Retry-After``) without the session, the
database or the cache.

It is optional: the limits hold without it. Each web process learns on its own: the first
refusal in a process is a full request. An entry lives only as long as the wait the real
limit computed, so it never refuses an ask the limits would let through.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_vary_headers

from . import throttling

#: The clock of the table (tests move it).
monotonic = time.monotonic

#: Paths that can be an ask endpoint end so (``oscar_gpt/urls.py``, ``oscar_gpt/api/urls.py``);
#: ``resolve()`` decides, for those only.
ASK_PATH_ENDINGS = ("/ask/", "/qa/questions/")


class RefusedClients:
    """Throttle cache key -> monotonic time until which the limit refuses it. Bounded (the
    oldest entries go first), thread-safe, process-local."""

    def __init__(self, max_entries: int = 10_000):
        self.max_entries = max_entries
        #: Set once the middleware is installed in this process; until then nothing is kept.
        self.active = False
        self._until: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._until)

    def refuse(self, key: str, seconds: float) -> None:
        until = monotonic() + seconds
        with self._lock:
            self._until[key] = until
            self._until.move_to_end(key)
            while len(self._until) > self.max_entries:
                self._until.popitem(last=False)

    def remaining(self, keys: Iterable[str]) -> float | None:
        """The longest wait left among ``keys``, or None when none of them is refused."""
        now = monotonic()
        longest = None
        with self._lock:
            for key in keys:
                until = self._until.get(key)
                if until is None:
                    continue
                if until <= now:
                    del self._until[key]
                elif longest is None or until - now > longest:
                    longest = until - now
        return longest

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


REFUSED = RefusedClients()


@receiver(setting_changed)
def _forget_on_new_limits(setting, **kwargs):
    # Other rates, proxies or caches: what the old limits refused says nothing any more.
    if setting in ("OSCAR_GPT", "REST_FRAMEWORK", "CACHES"):
        REFUSED.clear()


def _scope(kind: type) -> str:
    return next(t.scope for t in throttling.QA_THROTTLES if issubclass(t, kind))


def _keys(request, ip_scope: str, session_scope: str) -> tuple[str, str]:
    """The throttle cache keys the ask limits count ``request`` under, as far as they are
    known without the session store: its address and its session cookie."""
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    # SessionStore takes a cookie of 8 characters or more as its key (SessionThrottle reads
    # session_key before anything loads it); otherwise the session limit counts the address.
    session_key = cookie if cookie and len(cookie) >= 8 else None
    fmt = throttling.IPThrottle.cache_format
    return (
        fmt % {"scope": ip_scope, "ident": throttling.client_ip(request)},
        fmt % {"scope": session_scope, "ident": throttling.session_ident(session_key, request)},
    )


class RateLimitedClientsMiddleware:
    """Answer 429 at once to an ask from a client the ask limits refused a moment ago.

    Only POSTs to the two ask endpoints (``oscar_gpt:qa-ask`` and ``oscar_gpt:api-qa-ask``)
    are looked at; everything else passes through after a method and a suffix check."""

    def __init__(self, get_response):
        from .api import qa_views as api_views
        from .qa import views as qa_views

        self.get_response = get_response
        self._refusals = {qa_views.AskView: qa_views.refused, api_views.AskView: api_refused}
        self._locale = "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
        self._scopes = (_scope(throttling.IPThrottle), _scope(throttling.SessionThrottle))
        REFUSED.active = True

    def __call__(self, request):
        if (
            request.method == "POST"
            and len(REFUSED)
            and request.path_info.endswith(ASK_PATH_ENDINGS)
        ):
            response = self._refuse(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _refuse(self, request) -> HttpResponse | None:
        wait = REFUSED.remaining(_keys(request, *self._scopes))
        if wait is None:
            return None
        language, language_in_path = self._language(request)
        with translation.override(language):
            # i18n_patterns match the active language's prefix, as LocaleMiddleware sets it.
            try:
                match = resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404:
                return None
            refused = self._refusals.get(getattr(match.func, "view_class", None))
            if refused is None:
                return None
            response = refused(request, wait)
        # The headers the skipped middleware would have added that say what the answer
        # depends on (XFrameOptionsMiddleware's is not added; SecurityMiddleware, before this
        # one, adds its own).
        if self._locale:
            response.headers.setdefault("Content-Language", language)
            if not language_in_path:
                patch_vary_headers(response, ("Accept-Language",))
        patch_vary_headers(response, ("Cookie",))
        response["Content-Length"] = str(len(response.content))
        return response

    def _language(self, request) -> tuple[str, bool]:
        """The language LocaleMiddleware would activate (its process_request, no session),
        and whether the path said it."""
        if not self._locale:
            return settings.LANGUAGE_CODE, False
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        patterns_used, prefixed_default = is_language_prefix_patterns_used(urlconf)
        language = translation.get_language_from_request(request, check_path=patterns_used)
        in_path = bool(translation.get_language_from_path(request.path_info))
        if not in_path and patterns_used and not prefixed_default:
            language = settings.LANGUAGE_CODE
        return language, in_path and patterns_used


def api_refused(request, wait: float) -> HttpResponse:
    """The 429 DRF answers for ``oscar_gpt.api.qa_views.AskView`` (its Throttled exception
    through the default exception handler, rendered as JSON)."""
    from rest_framework.exceptions import Throttled
    from rest_framework.renderers import JSONRenderer

    exc = Throttled(wait)
    response = HttpResponse(
        JSONRenderer().render({"detail": exc.detail}),
        status=exc.status_code,
        content_type="application/json",
    )
    if exc.wait:
        response["Retry-After"] = str(exc.wait)
    response["Allow"] = "POST, OPTIONS"
    response["Vary"] = "Accept"
    return response
