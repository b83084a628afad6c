from django.db import models


class Entry(models.Model):
    author_email = models.EmailField()
    message = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
