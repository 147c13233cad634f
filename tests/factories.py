"""factory_boy factories. A child takes its parent's organization; projects are opened
through the service so every project has its journal from the first entry."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from accounts.permissions import Actor
from journey.models import Client, Contact, Feedback, Milestone, Modality, Segment, Touchpoint
from journey.services import project_open


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"CDMO {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@cdmo.example")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.ADMIN


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Sponsor {n}")
    segment = Segment.BIOTECH
    service_model = factory.LazyAttribute(
        lambda o: "transactional" if o.segment in ("big_pharma", "mid_pharma") else "consultative"
    )
    modalities = factory.LazyFunction(lambda: ["biologic"])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    organization = factory.SelfAttribute("client.organization")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@sponsor.example")


class ProjectFactory(factory.Factory):
    """Opens the project through `project_open` (journal entry included)."""

    class Meta:
        model = dict

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Programme {n}")
    code = factory.Sequence(lambda n: f"PRJ-{n:04d}")
    modality = Modality.BIOLOGIC
    opened_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=400))
    project_manager = None

    @classmethod
    def _create(cls, model_class, client, **kwargs):
        actor = Actor.system(client.organization, label="factory")
        pm = kwargs.pop("project_manager", None)
        if pm is not None:
            kwargs["project_manager"] = pm.email if hasattr(pm, "email") else pm
        return project_open(actor=actor, client=client.pk, **kwargs)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    organization = factory.SelfAttribute("project.organization")
    phase = "plan"
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_date = factory.LazyFunction(lambda: timezone.now().date())


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    client = factory.SubFactory(ClientFactory)
    organization = factory.SelfAttribute("client.organization")
    kind = "call"
    at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    project = factory.SubFactory(ProjectFactory)
    organization = factory.SelfAttribute("project.organization")
    phase = "assess"
    kind = "csat"
    score = 4
    responded_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
