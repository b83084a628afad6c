from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F


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


class SearchFacts(models.Model):
    """What filters, facets, sorting and family collapsing read about a product: the
    fields of `ProductSearchRow`, repeated in the PostgreSQL text tables so that a search
    reads its matches' facts where it finds them (no join); kept equal to the row's by
    every write of the rows (search.backends.dbrows)."""

    visible = models.BooleanField(default=False)
    vendor_id = models.BigIntegerField()
    vendor_kind = models.CharField(max_length=20)
    category_id = models.BigIntegerField()
    brand_id = models.BigIntegerField(null=True)
    in_stock = models.BooleanField(default=False)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    sales_count = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    family = models.CharField(max_length=16)
    codes = models.TextField(blank=True, help_text="Normalised SKUs and plugin codes, lower case, space-padded.")

    class Meta:
        abstract = True


class ProductSearchRow(SearchFacts):
    """The database backend's index of one product, narrow (about 150 bytes): what
    filters, facets, sorting and family collapsing read - the facts an Elasticsearch
    document carries - so a browse or a facet count scans nothing wider. The text is in
    `ProductSearchMatch` and `ProductSearchDescription` on PostgreSQL, `ProductSearchText`
    on SQLite. Maintained by the database backend from the same events that
    feed Elasticsearch; a product that is not visible keeps its row, `visible = False`."""

    product = models.OneToOneField("catalog.Product", primary_key=True, related_name="search_row",
                                   on_delete=models.CASCADE)
    vendor_id = models.BigIntegerField(db_index=True)
    family = models.CharField(max_length=16, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The orders of a browse, tie-breaker included, so that its page is read from an index.
        indexes = [
            models.Index(F("visible"), F("sales_count").desc(), F("product_id"), name="search_row_sales"),
            models.Index(F("visible"), F("price"), F("product_id"), name="search_row_price"),
            # (PostgreSQL also has price DESC NULLS LAST: migration 0002; SQLite takes no NULLS LAST here.)
            models.Index(F("visible"), F("created_at").desc(), F("product_id").desc(), name="search_row_newest"),
            # A browse of one brand or category: its rows found by key, not by walking an order.
            models.Index(F("visible"), F("brand_id"), name="search_row_brand"),
            models.Index(F("visible"), F("category_id"), name="search_row_category"),
        ]

    def __str__(self):
        return f"search row of product {self.product_id}"


class ProductSearchText(models.Model):
    """SQLite: the text a product is matched on, as tokens (search.text.search_tokens):
    Latin words; Chinese as two-character windows everywhere and single characters in
    names, brand, category and type (not descriptions). An FTS5 table
    `search_product_fts` follows these rows through triggers (when Python's sqlite3 has
    FTS5); without FTS5 the token strings are scanned.

    A query matches, as on Elasticsearch, when every word is in the names, brand,
    category, type and codes together - or every word is in the descriptions.

    PostgreSQL keeps no rows here: see `ProductSearchMatch` and
    `ProductSearchDescription`."""

    row = models.OneToOneField(ProductSearchRow, primary_key=True, related_name="search_text", db_column="product_id",
                               on_delete=models.CASCADE)
    names = models.TextField(blank=True)
    meta = models.TextField(blank=True, help_text="Brand, category path and product type.")
    body = models.TextField(blank=True, help_text="Descriptions.")
    codes = models.TextField(blank=True)

    def __str__(self):
        return f"search text of product {self.row_id}"


class ProductSearchMatch(SearchFacts):
    """PostgreSQL: a product's facts and `vector`, the tokens of names and codes (weight
    A) and of brand, category path and product type (weight B), with positions. A search
    matches through the GIN index on `vector` and ranks by `ts_rank` of the same vector,
    so that the matches' facts and rank come from one read of one table. (The match has
    no weights, so the GIN index needs no recheck.) Browses read the narrower
    `ProductSearchRow`."""

    row = models.OneToOneField(ProductSearchRow, primary_key=True, related_name="search_match",
                               db_column="product_id", on_delete=models.CASCADE)
    vector = SearchVectorField(null=True, editable=False)

    def __str__(self):
        return f"search match of product {self.row_id}"


class ProductSearchDescription(SearchFacts):
    """PostgreSQL: a product's facts and the tokens of its descriptions (no positions),
    matched through a GIN index; a product found only here is ranked by the vector of its
    `ProductSearchMatch` (the words of the query its names hold; none when the query is
    one word)."""

    row = models.OneToOneField(ProductSearchRow, primary_key=True, related_name="search_description",
                               db_column="product_id", on_delete=models.CASCADE)
    vector = SearchVectorField(null=True, editable=False)

    def __str__(self):
        return f"search description of product {self.row_id}"


class SearchTerm(models.Model):
    """The Latin words of indexed names, brands, categories and product types: what a
    misspelt word is corrected against (typo tolerance of the database backend). On
    PostgreSQL a pg_trgm GIN index finds the candidates."""

    term = models.CharField(max_length=64, primary_key=True)

    def __str__(self):
        return self.term
