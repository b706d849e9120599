from channel_manager.settings_sections import SettingsSection

SECTIONS = [
    SettingsSection(
        title="Inventory & Price Sync",
        url_name="sync:sync_settings",
        description="Safety buffer, maximum quantity, price markup and rounding, feed limits fallback.",
    ),
]
