"""The finder's shopper URLs, included by ``oscar_gpt.urls``."""

from django.urls import path

from . import views

urlpatterns = [
    path("finder/", views.FinderView.as_view(), name="finder"),
]
