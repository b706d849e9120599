"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS.

Key rotation: put the new key first in FIELD_ENCRYPTION_KEYS and keep the old ones after it, run
this command, then drop the old keys. All or nothing: a secret no configured key can decrypt stops
the command with an error naming the row, and nothing is rewritten.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from channel_manager.crypto import SecretDecryptionError
from channel_manager.services import encrypted_secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored secret (all *_encrypted fields) under the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options) -> None:
        try:
            count = encrypted_secrets_rotate()
        except (SecretDecryptionError, ImproperlyConfigured) as error:
            raise CommandError(str(error)) from None
        noun = "secret" if count == 1 else "secrets"
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} {noun} under the first key."))
