from django.contrib import admin

from pricing.models import PriceRule


@admin.register(PriceRule)
class PriceRuleAdmin(admin.ModelAdmin):
    list_display = ("store", "markup_type", "markup_value", "price_ending", "updated_at")
    list_select_related = ("store",)
