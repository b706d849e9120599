from channel_manager.settings_sections import SettingsSection

SECTIONS = [
    SettingsSection(
        title="Shipping Carriers",
        url_name="orders:carrier_mapping",
        description="Map Walmart's carriers to yours; unmapped carriers are sent as Other Carrier.",
    ),
    SettingsSection(
        title="Orders",
        url_name="orders:order_settings",
        description="Commerce order number prefix, automatic acknowledgement, polling interval.",
    ),
    SettingsSection(
        title="Webhooks",
        url_name="orders:webhook_settings",
        description="Receive new orders from Walmart in seconds: subscribe, unsubscribe, send a test event.",
    ),
]
