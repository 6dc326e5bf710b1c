"""factory_boy factories for the project's models."""

import factory
from django.contrib.auth import get_user_model

from merchants.models import Location, Merchant, Role, StaffMembership

TEST_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    slug = factory.Sequence(lambda n: f"merchant-{n}")
    name = factory.Sequence(lambda n: f"Merchant {n}")
    currency = "EUR"
    locale = "en"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    merchant = factory.SubFactory(MerchantFactory)
    slug = factory.Sequence(lambda n: f"location-{n}")
    name = factory.Sequence(lambda n: f"Counter {n}")


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory, is_staff=True)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.OWNER
