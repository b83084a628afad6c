from django.conf import settings
from django.core.checks import Error


def search_settings(app_configs, **kwargs):
    from .backends import BACKENDS

    errors = []
    backend = getattr(settings, "SEARCH_BACKEND", "database")
    if backend not in BACKENDS:
        errors.append(Error(f"SEARCH_BACKEND is {backend!r}.", hint=f"Use one of: {', '.join(BACKENDS)}.",
                            id="search.E001"))
    if backend == "elasticsearch" and not getattr(settings, "ELASTICSEARCH_URL", None):
        errors.append(Error("SEARCH_BACKEND=elasticsearch needs ELASTICSEARCH_URL.", id="search.E002"))
    return errors
