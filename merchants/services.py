"""The merchants app's verbs: create merchants and their locations, add staff, keep each user's staff flag in step
with their memberships, and enrol and check the staff's second factor (django-otp devices).

Each service takes ids and plain values, runs in one transaction, returns what it made, and raises a
`merchants.errors` error (or Django's ValidationError for a bad field) instead of writing half a change.
"""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.errors import MerchantExists, TwoFactorCodeInvalid, TwoFactorNotStarted, UnknownLocation
from merchants.models import Location, Merchant, Role, StaffMembership
from merchants.tenancy import ADMIN_ROLES

User = get_user_model()


@transaction.atomic
def merchant_create(
    *, slug: str, name: str, currency: str = "EUR", locale: str = "en", time_zone: str = "Europe/Berlin"
) -> tuple[Merchant, bool]:
    """Create a merchant, or return the existing one when it already has these details.

    Returns (merchant, created). Raises MerchantExists when the slug is taken with other details, and
    ValidationError for a bad slug, currency, language or time zone.
    """
    existing = Merchant.objects.filter(slug=slug).first()
    if existing is not None:
        wanted = {"name": name, "currency": currency.upper(), "locale": locale}
        differing = {
            field: getattr(existing, field) for field, value in wanted.items() if getattr(existing, field) != value
        }
        if differing:
            shown = ", ".join(f"{field} {value!r}" for field, value in differing.items())
            raise MerchantExists(
                f"A merchant with slug {slug!r} already exists with {shown}; change it in the admin.",
                slug=slug,
            )
        return existing, False
    merchant = Merchant(slug=slug, name=name, currency=currency.upper(), locale=locale, time_zone=time_zone)
    merchant.full_clean()
    merchant.save()
    return merchant, True


@transaction.atomic
def location_ensure(*, merchant_id: int, slug: str, name: str) -> tuple[Location, bool]:
    """Return the merchant's location ``slug``, creating it with ``name`` if it is missing."""
    location, created = Location.objects.get_or_create(merchant_id=merchant_id, slug=slug, defaults={"name": name})
    return location, created


@dataclass(frozen=True)
class StaffAdded:
    membership: StaffMembership
    user_created: bool
    generated_password: str | None


@transaction.atomic
def staff_add(
    *,
    merchant_id: int,
    email: str,
    role: str,
    location_slugs: tuple[str, ...] = (),
    password: str | None = None,
) -> StaffAdded:
    """Give the user with ``email`` (created if new) ``role`` at the merchant, optionally at some locations.

    A new user without ``password`` gets a generated one, returned once in ``generated_password``; an
    existing user keeps theirs unless ``password`` is given. Running it again with the same values changes
    nothing. Raises ValidationError for a bad email, role or password, UnknownLocation for a location not of this
    merchant.
    """
    email = email.strip().lower()
    validate_email(email)
    if role not in Role.values:
        raise ValidationError(
            _("Unknown role %(role)s; choose one of %(roles)s.") % {"role": repr(role), "roles": ", ".join(Role.values)}
        )

    locations = list(Location.objects.filter(merchant_id=merchant_id, slug__in=location_slugs))
    missing = sorted(set(location_slugs) - {location.slug for location in locations})
    if missing:
        known = ", ".join(Location.objects.filter(merchant_id=merchant_id).values_list("slug", flat=True))
        raise UnknownLocation(
            f"No location {', '.join(missing)} at this merchant (known: {known or 'none'}).",
            missing=missing,
        )

    user = User.objects.filter(username__iexact=email).first()
    user_created = user is None
    generated_password = None
    if user is None:
        user = User(username=email, email=email)
        if password is None:
            generated_password = password = secrets.token_urlsafe(12)
    if password is not None:
        # The validators of AUTH_PASSWORD_VALIDATORS (length, common, numeric, similar to the login), as for a
        # password set in the admin; they raise ValidationError with their messages.
        password_validation.validate_password(password, user)
        user.set_password(password)
    # The staff flag (owners and managers work in the admin, cashiers only at the POS page) follows the
    # membership saved below: see staff_flag_sync.
    user.save()

    membership, _created = StaffMembership.objects.update_or_create(
        user=user, merchant_id=merchant_id, defaults={"role": role}
    )
    membership.locations.set(locations)
    return StaffAdded(membership=membership, user_created=user_created, generated_password=generated_password)


def staff_flag_sync(*, user_id: int) -> bool:
    """Set the user's staff flag, the admin's door, to whether a membership lets them use the admin (superusers
    always keep it); returns the flag. Called whenever a membership is saved or deleted (merchants.signals)."""
    may_use_admin = StaffMembership.objects.filter(user_id=user_id, role__in=ADMIN_ROLES).exists()
    users = User.objects.filter(pk=user_id)
    users.filter(is_superuser=False).exclude(is_staff=may_use_admin).update(is_staff=may_use_admin)
    users.filter(is_superuser=True, is_staff=False).update(is_staff=True)
    return may_use_admin or users.filter(is_superuser=True).exists()


BACKUP_CODE_COUNT = 10
WRONG_CODE = gettext_noop("That code is not right. Check the time on your phone and enter the current code.")


def _normalised_code(token: str) -> str:
    # Apps show "123 456", backup codes are lower-case; people type either as they like.
    return "".join(token.split()).lower()


@transaction.atomic
def two_factor_enrolment_start(*, user_id: int) -> TOTPDevice:
    """The user's authenticator waiting for its first code: an unconfirmed TOTP device with a new random key,
    made on the first call and returned again until it is confirmed. The caller shows its key once (QR code)."""
    user = User.objects.select_for_update().get(pk=user_id)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def two_factor_enrolment_confirm(*, user_id: int, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with the first code it shows, and replace the backup codes.

    Returns the device and the new backup codes (each confirms one login; the caller shows them once). Raises
    TwoFactorNotStarted when no authenticator is pending, TwoFactorCodeInvalid for a wrong code.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user_id, confirmed=False).order_by("-pk").first()
        if device is None:
            raise TwoFactorNotStarted(_("Start the set-up again: no authenticator is waiting for its first code."))
        # A failed try is counted by the device (it waits longer after each): that count must be committed.
        verified = device.verify_token(_normalised_code(token))
        codes: list[str] = []
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user_id=user_id, confirmed=False).delete()
            StaticDevice.objects.filter(user_id=user_id).delete()
            backup = StaticDevice.objects.create(user_id=user_id, name="Backup codes", confirmed=True)
            codes = [StaticToken.random_token() for _index in range(BACKUP_CODE_COUNT)]
            StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    if not verified:
        raise TwoFactorCodeInvalid(
            _("That code is not right. Check the time on your phone and enter the current code.")
        )
    return device, codes


def two_factor_verify(*, user_id: int, token: str) -> Device:
    """The confirmed device (authenticator or backup codes) that accepts ``token`` for this login; a backup code
    is used up. Raises TwoFactorCodeInvalid when none does (wrong, used, or tried again too soon)."""
    user = User.objects.get(pk=user_id)
    # match_token locks the user's devices while it checks, so one code cannot confirm two logins at once.
    device = match_token(user, _normalised_code(token))
    if device is None:
        raise TwoFactorCodeInvalid(
            _("That code is not right. Check the time on your phone and enter the current code.")
        )
    return device
