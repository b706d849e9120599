from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"

    def ready(self) -> None:
        from channel_manager.work import sweep_register
        from returns.services import refunds_sweep

        sweep_register("returns.refund", refunds_sweep)
