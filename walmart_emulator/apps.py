from django.apps import AppConfig


class WalmartEmulatorConfig(AppConfig):
    name = "walmart_emulator"
    verbose_name = "Walmart emulator"
