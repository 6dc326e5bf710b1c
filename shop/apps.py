from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = _("Shop")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shop.models import StaffMembership
        from shop.signals import on_membership_deleted, on_membership_saved

        # A demoted or removed manager loses the admin at once, whichever way the membership changed.
        post_save.connect(on_membership_saved, sender=StaffMembership, dispatch_uid="shop.membership_saved")
        post_delete.connect(on_membership_deleted, sender=StaffMembership, dispatch_uid="shop.membership_deleted")
