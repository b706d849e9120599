from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ListingsConfig(AppConfig):
    name = "listings"

    def ready(self) -> None:
        from listings.permissions import catalog_groups_ensure

        post_migrate.connect(catalog_groups_ensure, sender=self, dispatch_uid="listings_catalog_groups")
