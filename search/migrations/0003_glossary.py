"""Default data: the auto-parts glossary (search/glossary.py) as staff-editable synonym
sets. Sets whose terms staff already use are skipped; reversing removes nothing (the
sets belong to staff from now on)."""
from django.db import migrations


def load_glossary(apps, schema_editor):
    from search.glossary import load

    load(apps.get_model("search", "SynonymSet"))


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0002_search_rows"),
    ]

    operations = [
        migrations.RunPython(load_glossary, migrations.RunPython.noop),
    ]
