"""Sections of a store's Channel Settings page, declared in code by each app.

The core declares Walmart Connection and General. An app adds its own section (Map Attributes,
Shipping Carriers, ...) in `<app>/settings_sections.py`:

    from channel_manager.settings_sections import SettingsSection
    SECTIONS = [SettingsSection(title="Shipping Carriers", url_name="orders:carrier_mapping",
                                description="Map Walmart's preferred carriers to yours.")]

`url_name` is reversed with the store's id as its only argument.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from channel_manager.discovery import app_modules


@dataclass(frozen=True)
class SettingsSection:
    title: str
    url_name: str
    description: str = ""


@dataclass(frozen=True)
class SettingsLink:
    title: str
    url: str
    description: str


def settings_sections_declared() -> list[SettingsSection]:
    sections: list[SettingsSection] = []
    for module in app_modules("settings_sections"):
        sections.extend(getattr(module, "SECTIONS", []))
    return sections


def settings_links(*, store_id: int) -> list[SettingsLink]:
    """The declared sections whose page exists, with their URL for this store."""
    links = []
    for section in settings_sections_declared():
        try:
            url = reverse(section.url_name, args=[store_id])
        except NoReverseMatch:
            continue
        links.append(SettingsLink(title=section.title, url=url, description=section.description))
    return links


SECTIONS = [
    SettingsSection(
        title="Walmart Connection",
        url_name="store_connection",
        description="Client ID and Client Secret of the Walmart seller account; test the connection.",
    ),
    SettingsSection(
        title="General",
        url_name="store_general_settings",
        description="Notification email, whether the Walmart store is live, and which syncs run.",
    ),
    SettingsSection(
        title="Members",
        url_name="store_members",
        description="Who may see this store, and their role: viewer, operator or manager.",
    ),
]
