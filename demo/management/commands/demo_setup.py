"""Set up the demo for `make run` (see `demo.services`): a demo login (its password printed once, when
it is created) and, when the Walmart emulator is on, a demo seller with a catalog on the emulator, a demo
store connected to it, a demo catalog listed in the store, and the store's first minute queued for the worker.

Safe to run on every start: what exists is left as it is. Never calls Walmart (the web server is not up yet).
"""

from django.core.management.base import BaseCommand

from demo.services import DEMO_STORE_NAME, DEMO_USERNAME, demo_setup


class Command(BaseCommand):
    help = "Create the demo login (and, with the emulator, the demo store, catalog and listings) if missing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="Where the web server will answer.")
        parser.add_argument(
            "--no-start",
            action="store_true",
            help="Only write the demo rows; do not queue the demo store's first sync steps for the worker.",
        )

    def handle(self, *args, url: str, no_start: bool, **options) -> None:
        result = demo_setup(site_url=url, start=not no_start)
        if result.store_id is not None:
            if result.store_created:
                self.stdout.write(f"Demo store {DEMO_STORE_NAME!r} created, connected to the Walmart emulator.")
            if result.products_created or result.listings_created:
                self.stdout.write(
                    f"Demo catalog: {result.products_created} products created, "
                    f"{result.listings_created} listed in {DEMO_STORE_NAME!r}."
                )
            if result.onboarding_products_created:
                self.stdout.write(
                    f"The demo seller already sells items on Walmart: {result.onboarding_products_created} catalog "
                    "products match some of them (by SKU or identifier). Walmart items tab: Import from Walmart."
                )
            if result.start_queued and result.listings_created:
                self.stdout.write(
                    "Matching, stock and the first orders start as soon as the web server answers (about a minute)."
                )
        if result.password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDemo login created. Open {url} and log in as {DEMO_USERNAME} / {result.password}\n"
                    "(shown only this once; change it with `.venv/bin/python manage.py changepassword demo`).\n"
                )
            )
        else:
            self.stdout.write(f"\nOpen {url} and log in as {DEMO_USERNAME} (password shown on the first run).\n")
