from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarConfig


class OscarGptConfig(OscarConfig):
    """django-oscar-gpt: include ``apps.get_app_config("oscar_gpt").urls[0]`` in your URLs."""

    name = "oscar_gpt"
    default = True  # picked for a bare "oscar_gpt" in INSTALLED_APPS
    label = "oscar_gpt"
    verbose_name = _("Oscar GPT")
    namespace = "oscar_gpt"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
        from .llm import registry  # noqa: F401  (resets backends on setting_changed)
        from .qa import signals as qa_signals
        from .recommendations import signals as recs_signals

        qa_signals.connect()
        recs_signals.connect()

    def get_urls(self):
        from .urls import urlpatterns

        return self.post_process_urls(urlpatterns)
