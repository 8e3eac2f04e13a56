"""Shopper-facing and API URLs; each feature adds its own."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("api/", include("oscar_gpt.api.urls")),
]
