from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from channel_manager.work import sweep_register
        from orders.services import (
            acknowledgements_sweep,
            cancellations_sweep,
            orders_provisional_sweep,
            shipments_sweep,
            webhook_events_sweep,
        )

        sweep_register("orders.shipment", shipments_sweep)
        sweep_register("orders.cancellation", cancellations_sweep)
        sweep_register("orders.acknowledgement", acknowledgements_sweep)
        sweep_register("orders.webhook_event", webhook_events_sweep)
        sweep_register("orders.provisional", orders_provisional_sweep)
