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


def search_cluster(app_configs, **kwargs):
    """Deploy check (`manage.py check --deploy`, run before a release starts): the
    Elasticsearch cluster offers every analysis component the mappings name - above all
    the analysis-smartcn plugin, which production clusters do not install by default."""
    if getattr(settings, "SEARCH_BACKEND", "database") != "elasticsearch" or not settings.ELASTICSEARCH_URL:
        return []
    from .backends import get_backend

    try:
        problem = get_backend().analysis_problem()
    except Exception as exc:  # unreachable: say so, do not crash the check run
        return [Error(f"Elasticsearch at {settings.ELASTICSEARCH_URL} could not be checked: {exc}",
                      id="search.E004")]
    return [Error(problem, id="search.E003")] if problem else []
