from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The living demo of `make run` (a demo store on the Walmart emulator). The top layer: it wires the
    product's apps to the emulator, which nothing else imports."""

    name = "demo"
