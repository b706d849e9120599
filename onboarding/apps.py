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

        from listings.signals import read_back_stores_wanted, walmart_item_event, walmart_items_read
        from onboarding.receivers import on_read_back_stores_wanted, on_walmart_item_event, on_walmart_items_read

        walmart_items_read.connect(on_walmart_items_read, dispatch_uid="onboarding_walmart_items_read")
        walmart_item_event.connect(on_walmart_item_event, dispatch_uid="onboarding_walmart_item_event")
        read_back_stores_wanted.connect(on_read_back_stores_wanted, dispatch_uid="onboarding_read_back_stores")
