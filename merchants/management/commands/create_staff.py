"""manage.py create_staff --merchant <slug> --email <email> --role owner|manager|cashier [--password <pw>]"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from merchants.errors import MerchantError
from merchants.models import Merchant, Role
from merchants.services import staff_add


class Command(BaseCommand):
    help = (
        "Give a person a role at a merchant, creating their login if needed. Without --password a new "
        "login gets a one-time password, printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", required=True, help="The merchant's slug.")
        parser.add_argument("--email", required=True, help="The login (an email address).")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="Set this password (otherwise new logins get a generated one).")
        parser.add_argument(
            "--location",
            action="append",
            default=[],
            dest="locations",
            help="Limit to this location's slug; repeat for several. Default: all locations.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"No merchant with slug {options['merchant']!r}; create it with create_merchant.")
        try:
            added = staff_add(
                merchant_id=merchant.pk,
                email=options["email"],
                role=options["role"],
                location_slugs=tuple(options["locations"]),
                password=options["password"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        except MerchantError as error:
            raise CommandError(error.message) from error
        user = added.membership.user
        where = ", ".join(added.membership.locations.values_list("slug", flat=True)) or "all locations"
        verb = "Created" if added.user_created else "Updated"
        self.stdout.write(f"{verb} {user.username}: {added.membership.role} at {merchant.slug} ({where})")
        if added.generated_password:
            self.stdout.write(f"One-time password: {added.generated_password}")
        elif not added.user_created and options["password"] is None:
            self.stdout.write("Existing login: password unchanged.")
