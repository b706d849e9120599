from channel_manager.settings_sections import SettingsSection

SECTIONS = [
    SettingsSection(
        title="Returns",
        url_name="returns:return_settings",
        description="How often Walmart's returns are read, and how far each read looks back.",
    ),
]
