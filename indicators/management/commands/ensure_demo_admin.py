import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "For a first local look: create a superuser 'admin' if there is none. The password "
        "is ADMIN_PASSWORD, or a random one printed once. Does nothing when a superuser exists."
    )

    def handle(self, *args, **options) -> None:
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser exists already; nothing to do.")
            return
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", email="", password=password)
        self.stdout.write(self.style.WARNING(f"Created superuser 'admin' with password: {password}"))
