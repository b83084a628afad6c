# The PostgreSQL text search reads its matches where it finds them: ProductSearchMatch
# (the facts of the rows and one weighted vector that both matches and ranks) replaces
# the names vector of ProductSearchText and the rank vector of ProductSearchRank, and the
# descriptions carry the facts too - before, a search needed a UNION and two joins.
# SQLite keeps ProductSearchText (its FTS5 table follows it).

import django.contrib.postgres.search
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

FACTS = "visible, vendor_id, vendor_kind, category_id, brand_id, in_stock, price, sales_count, created_at, family, codes"

POSTGRES_UP = f"""
CREATE INDEX search_productmatch_vector_gin ON search_productsearchmatch USING gin (vector);
INSERT INTO search_productsearchmatch (product_id, {FACTS}, vector)
SELECT r.product_id, {', '.join('r.' + c.strip() for c in FACTS.split(','))}, k.rank_vector
FROM search_productsearchrow r JOIN search_productsearchrank k ON k.product_id = r.product_id;
UPDATE search_productsearchdescription d SET {', '.join(f'{c.strip()} = r.{c.strip()}' for c in FACTS.split(','))}
FROM search_productsearchrow r WHERE r.product_id = d.product_id;
DELETE FROM search_productsearchtext;
CREATE INDEX search_match_locality ON search_productsearchmatch (category_id, brand_id);
CREATE INDEX search_description_locality ON search_productsearchdescription (category_id, brand_id);
ALTER TABLE search_productsearchmatch SET (fillfactor = 90);
ALTER TABLE search_productsearchdescription SET (fillfactor = 90);
CLUSTER search_productsearchmatch USING search_match_locality;
CLUSTER search_productsearchdescription USING search_description_locality;
"""
POSTGRES_DOWN = """
DROP INDEX IF EXISTS search_description_locality;
DROP INDEX IF EXISTS search_match_locality;
DROP INDEX IF EXISTS search_productmatch_vector_gin;
"""


def match_index(apps, schema_editor):
    """PostgreSQL: the GIN index, the rows the backend already had (their rank vector is
    the new match vector: same tokens, same weights), the descriptions' facts, and both
    tables in locality order (search.backends.dbrows.cluster_text_tables)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)


def drop_match_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)


class Migration(migrations.Migration):

    dependencies = [
        ('search', '0003_glossary'),
    ]

    operations = [
        migrations.CreateModel(
            name='ProductSearchMatch',
            fields=[
                ('row', models.OneToOneField(db_column='product_id', on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_match', serialize=False, to='search.productsearchrow')),
                ('visible', models.BooleanField(default=False)),
                ('vendor_id', models.BigIntegerField()),
                ('vendor_kind', models.CharField(max_length=20)),
                ('category_id', models.BigIntegerField()),
                ('brand_id', models.BigIntegerField(null=True)),
                ('in_stock', models.BooleanField(default=False)),
                ('price', models.DecimalField(decimal_places=2, max_digits=12, null=True)),
                ('sales_count', models.IntegerField(default=0)),
                ('created_at', models.DateTimeField()),
                ('family', models.CharField(max_length=16)),
                ('codes', models.TextField(blank=True, help_text='Normalised SKUs and plugin codes, lower case, space-padded.')),
                ('vector', django.contrib.postgres.search.SearchVectorField(editable=False, null=True)),
            ],
        ),
        migrations.AddField(model_name='productsearchdescription', name='visible', field=models.BooleanField(default=False)),
        migrations.AddField(model_name='productsearchdescription', name='vendor_id', field=models.BigIntegerField(default=0), preserve_default=False),
        migrations.AddField(model_name='productsearchdescription', name='vendor_kind', field=models.CharField(max_length=20, default=''), preserve_default=False),
        migrations.AddField(model_name='productsearchdescription', name='category_id', field=models.BigIntegerField(default=0), preserve_default=False),
        migrations.AddField(model_name='productsearchdescription', name='brand_id', field=models.BigIntegerField(null=True)),
        migrations.AddField(model_name='productsearchdescription', name='in_stock', field=models.BooleanField(default=False)),
        migrations.AddField(model_name='productsearchdescription', name='price', field=models.DecimalField(decimal_places=2, max_digits=12, null=True)),
        migrations.AddField(model_name='productsearchdescription', name='sales_count', field=models.IntegerField(default=0)),
        migrations.AddField(model_name='productsearchdescription', name='created_at', field=models.DateTimeField(default=django.utils.timezone.now), preserve_default=False),
        migrations.AddField(model_name='productsearchdescription', name='family', field=models.CharField(max_length=16, default=''), preserve_default=False),
        migrations.AddField(model_name='productsearchdescription', name='codes', field=models.TextField(blank=True, help_text='Normalised SKUs and plugin codes, lower case, space-padded.')),
        migrations.RunPython(match_index, drop_match_index),
        migrations.RemoveField(
            model_name='productsearchtext',
            name='vector',
        ),
        migrations.DeleteModel(
            name='ProductSearchRank',
        ),
    ]
