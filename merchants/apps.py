from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = _("Merchants")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from merchants.models import StaffMembership
        from merchants.signals import on_membership_deleted, on_membership_saved

        # A demoted or removed manager loses the admin at once, whichever way the membership changed.
        post_save.connect(on_membership_saved, sender=StaffMembership, dispatch_uid="merchants.membership_saved")
        post_delete.connect(on_membership_deleted, sender=StaffMembership, dispatch_uid="merchants.membership_deleted")
