from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _schedules_sync_after_migrate(sender, **kwargs) -> None:
    from channel_manager.schedules import schedules_sync

    schedules_sync()


class ChannelManagerConfig(AppConfig):
    name = "channel_manager"
    verbose_name = "Channel Manager"

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from channel_manager.bulk import AnyOf

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)  # relations keep lookups of their own (ids given, not instances)
        post_migrate.connect(_schedules_sync_after_migrate, sender=self, dispatch_uid="channel_manager_schedules")
