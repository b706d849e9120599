from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding from Walmart"

    def ready(self) -> None:
        from channel_manager.work import sweep_register
        from onboarding.services import walmart_imports_sweep

        sweep_register("onboarding.walmart_import", walmart_imports_sweep)

        from channel_manager.signals import store_connected
        from onboarding.receivers import on_store_connected

        store_connected.connect(on_store_connected, dispatch_uid="onboarding_store_connected")
