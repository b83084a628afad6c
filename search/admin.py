from django import forms
from django.contrib import admin

from .models import IndexingFailure, SynonymSet


class SynonymSetForm(forms.ModelForm):
    class Meta:
        model = SynonymSet
        fields = ("terms",)

    def clean_terms(self):
        from marketplace.core.errors import MarketplaceError

        from . import synonyms

        try:
            return synonyms.clean_terms(self.cleaned_data["terms"])
        except MarketplaceError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(SynonymSet)
class SynonymSetAdmin(admin.ModelAdmin):
    form = SynonymSetForm
    list_display = ("__str__", "updated_at")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        from django.contrib import messages

        from marketplace.core.errors import MarketplaceError

        from . import synonyms

        try:
            synonyms.save_synonym_set(obj.terms, synonym_set=obj, user=request.user)
        except MarketplaceError as exc:
            messages.error(request, exc.message)

    def delete_model(self, request, obj):
        from . import synonyms

        synonyms.delete_synonym_set(obj)


@admin.register(IndexingFailure)
class IndexingFailureAdmin(admin.ModelAdmin):
    list_display = ("kind", "object_id", "attempts", "last_failed_at", "error")
    list_filter = ("kind",)
    readonly_fields = ("kind", "object_id", "error", "attempts", "first_failed_at", "last_failed_at")
