"""leadbaton createadmin: an admin user who can sign in."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadbaton.accounts.models import User
from leadbaton.accounts.services import admin_create


class Command(BaseCommand):
    help = "Create an admin. The password comes from LEADBATON_ADMIN_PASSWORD or a prompt."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise CommandError(f"a user with email {email} exists already")
        password = os.environ.get("LEADBATON_ADMIN_PASSWORD") or getpass.getpass("Password: ")
        try:
            validate_password(password, User(email=email))
        except ValidationError as error:
            raise CommandError("password: " + " ".join(error.messages)) from None
        admin_create(email=email, password=password, name=options["name"])
        self.stdout.write(self.style.SUCCESS(f"admin {email} created"))
