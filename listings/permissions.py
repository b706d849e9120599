"""Who may do what with the catalog: site-wide Django permissions, held by groups created on migrate.

The catalog is shared by every store, so it is not governed by store membership: a product is seen,
edited, imported or exported through these permissions only (superusers hold them all). Ops staff put
users in the groups in admin (Users, or Groups). Adding products to a store also needs the operator role
in that store.
"""

from django.contrib.auth.models import Group, Permission

VIEW = "listings.view_product"
ADD = "listings.add_product"
EDIT = "listings.change_product"
IMPORT_EXPORT = "listings.import_export_catalog"

# Group name -> the codenames (listings app) its members hold. Each group includes the ones above it.
CATALOG_GROUPS = {
    "Catalog viewers": ["view_product"],
    "Catalog editors": ["view_product", "add_product", "change_product"],
    "Catalog importers": ["view_product", "add_product", "change_product", "import_export_catalog"],
}


def catalog_groups_ensure(**kwargs) -> None:
    """Create the catalog groups and give each exactly its permissions. Runs after every migrate (the
    listings app's post_migrate, once its permissions exist); safe to re-run."""
    for name, codenames in CATALOG_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="listings", codename__in=codenames)
        group.permissions.set(permissions)
