"""Set up the demo for `make run`: a demo login (its password printed once, when it is created) and, when
the Walmart emulator is on, a demo seller on the emulator and a demo store connected to it.

Safe to run on every start: what exists is left as it is.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from channel_manager.models import Store
from channel_manager.services import store_create

DEMO_USERNAME = "demo"
DEMO_STORE_NAME = "Demo Walmart store"
DEMO_SELLER_NAME = "Demo seller"


class Command(BaseCommand):
    help = "Create the demo login (and, with the emulator, the demo store and its emulator seller) if missing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url: str, **options) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_USERNAME).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(
                username=DEMO_USERNAME, email="demo@example.com", password=password
            )
        if settings.WALMART_EMULATOR_ENABLED:
            self._demo_store_ensure(user=user)
        if password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDemo login created. Open {url} and log in as {DEMO_USERNAME} / {password}\n"
                    "(shown only this once; change it with `.venv/bin/python manage.py changepassword demo`).\n"
                )
            )
        else:
            self.stdout.write(f"\nOpen {url} and log in as {DEMO_USERNAME} (password shown on the first run).\n")

    def _demo_store_ensure(self, *, user) -> None:
        try:
            from walmart_emulator.models import Seller
            from walmart_emulator.services import seller_create
        except ImportError:
            return
        if Store.objects.filter(name=DEMO_STORE_NAME).exists():
            return
        with transaction.atomic():
            seller = Seller.objects.filter(name=DEMO_SELLER_NAME).first() or seller_create(
                name=DEMO_SELLER_NAME, simulate_orders=True
            )
            store_create(
                user=user,
                name=DEMO_STORE_NAME,
                environment=Store.Environment.EMULATOR,
                client_id=seller.client_id,
                client_secret=seller.client_secret,
                notification_email="demo@example.com",
            )
        self.stdout.write(f"Demo store {DEMO_STORE_NAME!r} created, connected to the Walmart emulator.")
