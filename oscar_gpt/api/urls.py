from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from . import finder_views, qa_views, recs_views, views

router = DefaultRouter()
router.register("descriptions/jobs", views.JobViewSet, basename="job")
router.register("descriptions/drafts", views.DraftViewSet, basename="draft")
router.register("descriptions/revisions", views.RevisionViewSet, basename="revision")

urlpatterns = [
    path("", include(router.urls)),
    path("qa/questions/", qa_views.AskView.as_view(), name="api-qa-ask"),
    path(
        "qa/questions/<uuid:public_id>/",
        qa_views.QuestionView.as_view(),
        name="api-qa-question",
    ),
    path(
        "qa/questions/<uuid:public_id>/report/",
        qa_views.ReportView.as_view(),
        name="api-qa-report",
    ),
    path("qa/products/<int:product_id>/faq/", qa_views.FaqView.as_view(), name="api-qa-faq"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("finder/", finder_views.FinderView.as_view(), name="api-finder"),
    path(
        "recommendations/products/<int:product_id>/",
        recs_views.ProductRecommendationsView.as_view(),
        name="api-recs-product",
    ),
    path(
        "recommendations/me/",
        recs_views.ShopperRecommendationsView.as_view(),
        name="api-recs-me",
    ),
    path(
        "recommendations/users/<int:user_id>/",
        recs_views.ShopperRecommendationsView.as_view(),
        name="api-recs-user",
    ),
]
