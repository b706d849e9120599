"""Find an optional module (`<app>/<name>.py`) in every installed app, for declarations made in code."""

from importlib import import_module
from types import ModuleType

from django.apps import apps


def app_modules(name: str) -> list[ModuleType]:
    """`<app>.<name>` of every installed app that has one, in INSTALLED_APPS order.

    An app without the module is skipped; an import error inside an existing module is raised.
    """
    modules = []
    for app_config in apps.get_app_configs():
        try:
            modules.append(import_module(f"{app_config.name}.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"{app_config.name}.{name}":
                raise
    return modules
