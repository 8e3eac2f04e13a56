from django.apps import apps
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
urlpatterns += i18n_patterns(
    # (patterns, app name, namespace), as Oscar mounts its own apps
    path("gpt/", apps.get_app_config("oscar_gpt").urls),
    path("dashboard/gpt/", apps.get_app_config("oscar_gpt_dashboard").urls),
    path("", include(apps.get_app_config("oscar").urls[0])),
)
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
