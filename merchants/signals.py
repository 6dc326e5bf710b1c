"""Receivers for the merchants app's models: a user's staff flag follows their memberships."""

from typing import Any

from merchants.models import StaffMembership
from merchants.services import staff_flag_sync


def on_membership_saved(sender: type[StaffMembership], instance: StaffMembership, **kwargs: Any) -> None:
    staff_flag_sync(user_id=instance.user_id)


def on_membership_deleted(sender: type[StaffMembership], instance: StaffMembership, **kwargs: Any) -> None:
    staff_flag_sync(user_id=instance.user_id)
