from django.conf import settings
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
