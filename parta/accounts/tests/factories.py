import factory
from allauth.account.models import EmailAddress

from parta.accounts.models import Role, User

# Moderators and staff get this password unless a test passes its own.
STAFF_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"student{n}@example.com")
    full_name = factory.Faker("name", locale="ru_RU")
    phone = ""
    role = Role.STUDENT

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        if extracted:
            self.set_password(extracted)
        elif self.role != Role.STUDENT:
            self.set_password(STAFF_PASSWORD)
        else:
            self.set_unusable_password()
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


class ModeratorFactory(UserFactory):
    email = factory.Sequence(lambda n: f"moderator{n}@example.com")
    role = Role.MODERATOR


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    role = Role.STAFF
    is_staff = True
    is_superuser = True
