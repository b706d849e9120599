from django.contrib import admin
from django.db import transaction

from pricing.models import PriceRule
from pricing.signals import price_rule_changed


@admin.register(PriceRule)
class PriceRuleAdmin(admin.ModelAdmin):
    list_display = ("store", "markup_type", "markup_value", "price_ending", "updated_at")
    list_select_related = ("store",)

    def save_model(self, request, obj, form, change):
        """Announced like `pricing.services.price_rule_save` (every listing of the store may change price)."""
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            price_rule_changed.send(sender=PriceRule, store_id=obj.store_id)

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            price_rule_changed.send(sender=PriceRule, store_id=obj.store_id)
