"""factory_boy factories shared by the suite."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from aftercare.stores.models import StaffMembership, StaffRole, Store


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"store-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    webhook_secret = factory.Sequence(lambda n: f"whsec-test-{n}")
    currency = "USD"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    role = StaffRole.OWNER
