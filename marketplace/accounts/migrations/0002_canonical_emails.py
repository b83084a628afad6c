"""Store every e-mail address in its canonical form (marketplace.accounts.identity):
NFKC, case folding, NFKC. Addresses stored before were only lower-cased. An address
whose canonical form another account already holds is left as it is (and reported)."""
import unicodedata

from django.db import migrations


def canonical(value):  # frozen copy of identity.canonical_email at the time of this migration
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    return unicodedata.normalize("NFKC", text.casefold())


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    taken = set(User.objects.values_list("email", flat=True))
    for user in User.objects.only("pk", "email").iterator():
        email = canonical(user.email)
        if email == user.email:
            continue
        if email in taken:
            print(f"\n  accounts: {user.email!r} (user {user.pk}) left as is: {email!r} belongs to another account")
            continue
        taken.discard(user.email)
        taken.add(email)
        User.objects.filter(pk=user.pk).update(email=email)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
