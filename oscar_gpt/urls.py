"""Shopper-facing and API URLs; each feature adds its own."""

from django.urls import path

from . import views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
]
