"""The finder page: a GET form and its results, each with the reasons it matched.

Works without JavaScript; ``Accept: application/json`` gets the API's payload instead.
Rate limited like the other shopper doors (``OSCAR_GPT["RATE_LIMITS"]["finder_*"]``).
"""

from __future__ import annotations

import math

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from .. import throttling
from ..app_settings import app_settings
from ..qa.views import wants_json
from . import service

TEMPLATE = "oscar_gpt/finder/page.html"


class FinderView(View):
    """``GET ?q=...``: what fits the shopper's description, and why."""

    def get(self, request):
        text = request.GET.get("q")
        context = {
            "query": text or "",
            "max_length": app_settings.FINDER_MAX_QUERY_LENGTH,
            "result": None,
            "error": "",
        }
        if text is None:  # the empty form: nothing searched, nothing counted
            return render(request, TEMPLATE, context)
        wait = throttling.check(request, throttling.FINDER_THROTTLES)
        if wait is not None:
            seconds = math.ceil(wait)
            message = _("Too many searches. Please try again in %(seconds)d seconds.") % {
                "seconds": seconds
            }
            response = self._error(request, context, message, 429)
            response["Retry-After"] = str(seconds)
            return response
        try:
            result = service.find(text, user=request.user, request=request)
        except service.FinderError as exc:
            return self._error(request, context, str(exc), 400)
        if wants_json(request):
            return JsonResponse(result.as_dict())
        context["result"] = result
        return render(request, TEMPLATE, context)

    def _error(self, request, context, message: str, status: int):
        if wants_json(request):
            return JsonResponse({"detail": message}, status=status)
        return render(request, TEMPLATE, context | {"error": message}, status=status)
