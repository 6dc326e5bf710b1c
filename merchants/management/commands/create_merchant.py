"""manage.py create_merchant --slug <slug> --name "<name>" [--currency EUR] [--locale de]"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from merchants.errors import MerchantError
from merchants.services import merchant_create


class Command(BaseCommand):
    help = "Create a merchant (a shop that sells vouchers). Running it again with the same values is safe."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="Shop address, used in /s/<slug>/.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--currency", default="EUR", help="ISO 4217 code (default EUR).")
        parser.add_argument("--locale", default="en", choices=[code for code, _ in settings.LANGUAGES])
        parser.add_argument("--time-zone", default="Europe/Berlin")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            merchant, created = merchant_create(
                slug=options["slug"],
                name=options["name"],
                currency=options["currency"],
                locale=options["locale"],
                time_zone=options["time_zone"],
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            ) from error
        except MerchantError as error:
            raise CommandError(error.message) from error
        verb = "Created" if created else "Already exists, unchanged:"
        self.stdout.write(f"{verb} merchant {merchant.slug} ({merchant.name}, {merchant.currency})")
