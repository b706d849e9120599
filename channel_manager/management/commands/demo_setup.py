"""Set up the demo for `make run`: a demo login (its password printed once, when it is created).

Safe to run on every start: what exists is left as it is.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo login (and, with the emulator, the demo store and data) if missing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url: str, **options) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(username="demo").first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(username="demo", email="demo@example.com", password=password)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDemo login created. Open {url} and log in as demo / {password}\n"
                    "(shown only this once; change it with `.venv/bin/python manage.py changepassword demo`).\n"
                )
            )
        else:
            self.stdout.write(f"\nOpen {url} and log in as demo (password shown on the first run).\n")
