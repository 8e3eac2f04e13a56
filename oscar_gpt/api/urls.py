from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("descriptions/jobs", views.JobViewSet, basename="job")
router.register("descriptions/drafts", views.DraftViewSet, basename="draft")
router.register("descriptions/revisions", views.RevisionViewSet, basename="revision")

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
