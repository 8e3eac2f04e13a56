"""Shopper-facing and API URLs; each feature adds its own."""

from django.urls import include, path

from . import views
from .qa import views as qa_views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("api/", include("oscar_gpt.api.urls")),
    path("qa/<int:product_id>/ask/", qa_views.AskView.as_view(), name="qa-ask"),
    path("qa/questions/<uuid:public_id>/", qa_views.QuestionView.as_view(), name="qa-question"),
    path("qa/questions/<uuid:public_id>/report/", qa_views.ReportView.as_view(), name="qa-report"),
    path("", include("oscar_gpt.finder.urls")),
]
