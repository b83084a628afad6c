"""Seed the three plans of the spec (storefront_yearly, shop_yearly, dealer_yearly) once.
Platform staff own them afterwards: later releases never overwrite them."""
from django.db import migrations


def seed(apps, schema_editor):
    from plugins.vendor_plans.plans import seed as seed_plans

    seed_plans(apps.get_model("vendor_plans", "Plan"))


class Migration(migrations.Migration):
    dependencies = [("vendor_plans", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
