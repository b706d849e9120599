from django import forms

from sync.models import StoreSyncSettings


class StoreSyncSettingsForm(forms.ModelForm):
    class Meta:
        model = StoreSyncSettings
        fields = (
            "safety_buffer",
            "max_quantity",
            "feeds_per_hour",
            "inventory_feed_max_bytes",
            "price_feed_max_bytes",
            "inventory_feed_max_items",
            "price_feed_max_items",
            "single_calls_per_tick",
        )

    def clean_inventory_feed_max_items(self):
        value = self.cleaned_data["inventory_feed_max_items"]
        if not 1 <= value <= 100_000:
            raise forms.ValidationError("Walmart accepts between 1 and 100,000 items per inventory feed.")
        return value

    def clean_price_feed_max_items(self):
        value = self.cleaned_data["price_feed_max_items"]
        if not 1 <= value <= 10_000:
            raise forms.ValidationError("Walmart accepts between 1 and 10,000 items per price feed.")
        return value

    def clean_feeds_per_hour(self):
        value = self.cleaned_data["feeds_per_hour"]
        if value < 1:
            raise forms.ValidationError("At least one feed per hour.")
        return value
