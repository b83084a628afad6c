from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SynonymSet(models.Model):
    """Terms platform staff declare equivalent, e.g. 刹车片 = 制动片 = brake pad. Applied
    at query time (no reindex): a query containing one term matches any of them."""

    terms = models.JSONField(default=list, help_text="Equivalent terms, stored folded (NFKC, case-folded).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return " = ".join(self.terms)


class IndexKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SHOP = "shop", "Shop"


class IndexingFailure(models.Model):
    """A document the index refused (after the task's retries, or while it still
    retries). Rows disappear when the document is indexed; `manage.py search_index
    status` reports them and the `search.tasks.retry_failures` beat task retries them."""

    kind = models.CharField(max_length=10, choices=IndexKind.choices)
    object_id = models.BigIntegerField()
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(auto_now_add=True)
    last_failed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_failure_once")]

    def __str__(self):
        return f"{self.kind} {self.object_id}: {self.error[:80]}"


class ProductSearchRow(models.Model):
    """The database backend's index of one product: its searchable text as tokens
    (search.text.search_tokens: lower-cased words, and Chinese as single characters plus
    two-character runs), its codes and its family key. Maintained by the database
    backend (`index_products`, `rebuild`) from the same events that feed Elasticsearch.

    PostgreSQL: `vector` is a tsvector kept by a trigger (names and codes weight A, brand/
    category/type B, descriptions C) with a GIN index. SQLite: an FTS5 table
    `search_product_fts` follows this table through triggers (when Python's sqlite3 has
    FTS5). Visibility is never read from here: searches join the live catalog."""

    product = models.OneToOneField("catalog.Product", primary_key=True, related_name="search_row",
                                   on_delete=models.CASCADE)
    names = models.TextField(blank=True)
    meta = models.TextField(blank=True, help_text="Brand, category path and product type.")
    body = models.TextField(blank=True, help_text="Descriptions.")
    codes = models.TextField(blank=True, help_text="Normalised SKUs and plugin codes, lower case.")
    family = models.CharField(max_length=16, db_index=True)
    vector = SearchVectorField(null=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"search row of product {self.product_id}"


class SearchTerm(models.Model):
    """The Latin words of indexed names, brands, categories and product types: what a
    misspelt word is corrected against (typo tolerance of the database backend). On
    PostgreSQL a pg_trgm GIN index finds the candidates."""

    term = models.CharField(max_length=64, primary_key=True)

    def __str__(self):
        return self.term
