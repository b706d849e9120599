"""Forms of the listings pages. They validate input only; `listings.services` does the writes (and its
`product_fields_clean` is the one judge of product values, so the form and the import agree)."""

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from channel_manager.uploads import upload_max_bytes, upload_too_large_message
from listings.catalog_io import CSV_COLUMNS, product_fields_clean
from listings.models import Listing, StoreAttributeMapping


class ProductForm(forms.Form):
    """Product create / edit. Identifiers are checked and normalised (check digits verified)."""

    sku = forms.CharField(label=_("SKU"), max_length=50)
    name = forms.CharField(max_length=200)
    brand = forms.CharField(max_length=100, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    image_url = forms.CharField(label=_("Image URL"), max_length=1000, required=False)
    upc = forms.CharField(label=_("UPC"), required=False, help_text=_("12 digits (UPC-A); UPC-E is expanded."))
    gtin = forms.CharField(label=_("GTIN"), required=False, help_text=_("Stored as 14 digits."))
    ean = forms.CharField(label=_("EAN"), required=False, help_text=_("Stored as 13 digits."))
    isbn = forms.CharField(label=_("ISBN"), required=False, help_text=_("ISBN-10 or ISBN-13."))
    issn = forms.CharField(label=_("ISSN"), required=False, help_text=_("8 characters, e.g. 0317-8471."))
    price = forms.CharField(help_text=_("At most two decimals, e.g. 9.99."))
    quantity = forms.CharField(help_text=_("Whole number, never negative."))
    shipping_weight = forms.CharField(
        label=_("Shipping weight (lb)"), required=False, help_text=_("At most two decimals, e.g. 1.25.")
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        clean, errors = product_fields_clean(data, fields=CSV_COLUMNS)
        for error in errors:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return data

    @classmethod
    def initial_from(cls, product) -> dict:
        return {
            "sku": product.sku,
            "name": product.name,
            "brand": product.brand,
            "description": product.description,
            "image_url": product.image_url,
            "upc": product.upc,
            "gtin": product.gtin,
            "ean": product.ean,
            "isbn": product.isbn,
            "issn": product.issn,
            "price": f"{product.price:.2f}",
            "quantity": str(product.quantity),
            "shipping_weight": "" if product.shipping_weight is None else f"{product.shipping_weight:.2f}",
        }


class ImportUploadForm(forms.Form):
    """The catalog file. `refused`: the upload handler dropped the file for its size (it never arrived)."""

    file = forms.FileField(
        label=_("Catalog file"),
        help_text=_("CSV (UTF-8, with the documented header) or JSON Lines (.jsonl)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson"}),
    )

    def __init__(self, *args, refused: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.refused = refused
        self.fields["file"].help_text += " " + _("At most %(megabytes)d MB.") % {
            "megabytes": settings.UPLOAD_MAX_MEGABYTES
        }

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > upload_max_bytes():
            raise forms.ValidationError(upload_too_large_message())
        return uploaded

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.refused:
            self.errors.pop("file", None)  # "required": the file was dropped, and this says why
            self.add_error("file", upload_too_large_message())
        return data


PRIORITY_LABELS = [_("First choice"), _("Second choice"), _("Third choice"), _("Fourth choice"), _("Fifth choice")]


class AttributeMappingForm(forms.Form):
    """Map Attributes: the catalog identifiers a store matches on, in priority order."""

    def __init__(self, *args, initial_identifiers=None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_identifiers = list(initial_identifiers or [])
        choices = [("", "—"), *StoreAttributeMapping.Identifier.choices]
        for position, label in enumerate(PRIORITY_LABELS):
            self.fields[f"identifier_{position + 1}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=False,
                initial=initial_identifiers[position] if position < len(initial_identifiers) else "",
            )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        chosen = [data.get(f"identifier_{position + 1}") for position in range(len(PRIORITY_LABELS))]
        identifiers = [value for value in chosen if value]
        if not identifiers:
            raise forms.ValidationError(_("Map at least one identifier: Walmart matches products on it."))
        if len(set(identifiers)) != len(identifiers):
            raise forms.ValidationError(_("Each identifier can be chosen only once."))
        data["identifiers"] = identifiers
        return data


LISTING_ACTIONS = [
    ("match", _("Match on Walmart")),
    ("rematch", _("Re-match (from Error)")),
    ("retire", _("Retire")),
    ("reset", _("Reset to Draft")),
    ("reread", _("Re-read from Walmart")),
]


class IdsField(forms.TypedMultipleChoiceField):
    """Ids picked on a list page: checked against the store's rows by the view, not against a fixed list here."""

    def valid_value(self, value: object) -> bool:
        return True


class ListingActionForm(forms.Form):
    action = forms.ChoiceField(choices=LISTING_ACTIONS)
    listing = IdsField(coerce=int, required=False)
    all_matching = forms.BooleanField(required=False)
    status = forms.ChoiceField(choices=[("", ""), *Listing.Status.choices], required=False)
    q = forms.CharField(required=False)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("all_matching") and not data.get("listing"):
            raise forms.ValidationError(_("Select at least one listing, or all that match the filter."))
        return data


class AddToStoreForm(forms.Form):
    store = forms.TypedChoiceField(coerce=int, choices=())
    product = IdsField(coerce=int, required=False)
    all_matching = forms.BooleanField(required=False)
    q = forms.CharField(required=False)

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["store"]).choices = [(store.pk, store.name) for store in stores]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("all_matching") and not data.get("product"):
            raise forms.ValidationError(_("Select at least one product, or all that match the filter."))
        return data
