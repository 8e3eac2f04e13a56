"""The sandbox's URLs plus one for ``bench/bench_qa.py``'s reference: the framework's floor.

``/<language>/bench/floor/<product_id>/ask/`` takes the same POST as the widget's ask, through
the same middleware (sessions, CSRF, locale, Oscar's basket), starts the shopper's session
the same way, and answers a short JSON at once: no product, no question, no query of its own.
Timed with the same shoppers on the same server as the cache hits, it says how much of a
hit's time is the app's.
"""

from django.conf.urls.i18n import i18n_patterns
from django.http import JsonResponse
from django.urls import path

from sandbox.urls import urlpatterns as shop


def floor(request, product_id: int):
    if not request.session.session_key:
        request.session.save()
    return JsonResponse({"done": True, "status": "answered", "source": "floor"})


urlpatterns = i18n_patterns(path("bench/floor/<int:product_id>/ask/", floor)) + shop
