from channel_manager.settings_sections import SettingsSection

SECTIONS = [
    SettingsSection(
        title="Map Attributes",
        url_name="listings:attribute_mapping",
        description="Which product identifiers (UPC, GTIN, EAN, ISBN, ISSN) Walmart matches your products on.",
    ),
]
