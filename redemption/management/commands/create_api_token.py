"""manage.py create_api_token: a new API token for a merchant; the token alone is printed on the last line."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from merchants.models import Location, Merchant
from redemption.errors import InvalidScope
from redemption.models import Scope
from redemption.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a merchant (optionally bound to one location). The token is shown only once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", required=True, help="The merchant's slug.")
        parser.add_argument("--location", help="Bind the token to this location (slug).")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=Scope.values,
            help="Repeat for several scopes; default: all of them.",
        )
        parser.add_argument("--name", default="", help="A name people recognise, e.g. 'Till 2'.")

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"No merchant {options['merchant']!r}.")
        location = None
        if options["location"]:
            location = Location.objects.filter(merchant=merchant, slug=options["location"]).first()
            if location is None:
                known = ", ".join(Location.objects.filter(merchant=merchant).values_list("slug", flat=True))
                raise CommandError(f"No location {options['location']!r} at {merchant.slug} (known: {known}).")
        scopes = options["scopes"] or list(Scope.values)
        name = options["name"] or (f"{location.slug} token" if location else "API token")
        try:
            token, secret = api_token_create(
                merchant_id=merchant.pk, name=name, scopes=scopes, location_id=location.pk if location else None
            )
        except InvalidScope as error:
            raise CommandError(error.message) from error
        where = f" at {location.slug}" if location else " at every location"
        self.stderr.write(
            f"Token {token.prefix}… for {merchant.slug}{where}, scopes {', '.join(token.scopes)}. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(secret)
