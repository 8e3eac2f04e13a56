from django.http import JsonResponse
from django.views import View

from .app_settings import app_settings


class HealthView(View):
    """Which backend each feature would use, without calling a model (for load balancers)."""

    def get(self, request):
        features = {
            feature: app_settings.feature_chain(feature)
            for feature in sorted(set(app_settings.FEATURES) | {"check"})
        }
        return JsonResponse({"status": "ok", "features": features})
