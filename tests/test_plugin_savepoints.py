"""GUARD and NOTIFY hook implementations run in a savepoint taken just before their first
SQL statement (marketplace.plugins.manager): one that runs no SQL costs no round trip,
one that fails leaves nothing behind, and calls nested inside each other (a hook
implementation calling a hook) get savepoints nested the same way."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marketplace.catalog.models import Category
from marketplace.plugins.manager import _in_savepoint_if_used as guarded

pytestmark = pytest.mark.django_db(transaction=True)


def _make(slug):
    return lambda: Category.objects.create(name_zh=slug, slug=slug)


def _slugs():
    return set(Category.objects.filter(slug__startswith="sp-").values_list("slug", flat=True))


def _fail():
    raise RuntimeError("plugin crashed")


def test_a_call_without_sql_takes_no_savepoint():
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        assert guarded(lambda: 42, ()) == 42
    assert not [q for q in ctx.captured_queries if "SAVEPOINT" in q["sql"]]


def test_a_failing_call_leaves_nothing_and_the_transaction_goes_on():
    def crashes():
        _make("sp-lost")()
        _fail()

    with transaction.atomic():
        _make("sp-before")()
        with pytest.raises(RuntimeError):
            guarded(crashes, ())
        _make("sp-after")()
    assert _slugs() == {"sp-before", "sp-after"}


def test_nested_calls_nest_their_savepoints():
    def outer_opened_by_inner():  # the outer call's first statement is the inner call's
        guarded(_make("sp-inner"), ())
        _make("sp-outer")()

    def outer_fails_after_inner():
        guarded(_make("sp-undone-inner"), ())
        _fail()

    def outer_survives_failing_inner():
        _make("sp-kept")()
        with pytest.raises(RuntimeError):
            guarded(lambda: (_make("sp-undone")(), _fail()), ())
        _make("sp-kept-after")()

    with transaction.atomic():
        guarded(outer_opened_by_inner, ())
        with pytest.raises(RuntimeError):
            guarded(outer_fails_after_inner, ())
        guarded(outer_survives_failing_inner, ())
    assert _slugs() == {"sp-inner", "sp-outer", "sp-kept", "sp-kept-after"}
