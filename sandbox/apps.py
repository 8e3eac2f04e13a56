from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Holds the demo catalogue loader and the sandbox's own templates."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Sandbox shop"
