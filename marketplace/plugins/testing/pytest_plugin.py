"""pytest fixtures of the plugin test kit (loaded through the `pytest11` entry point
`marketplace`, so any project with the engine installed has them).

- `gql`: a `GraphQLClient` over Django's test client (anonymous until `gql.login(...)`);
- `make_user(email, password=..., confirmed=True, **fields)`, `member`, `staff`,
  `member_gql`, `staff_gql`;
- `taxonomy`: categories, brands and product types; `make_vendor(slug, kind=...)`;
  `make_product(vendor, slug, price=..., stock=..., ...)`;
- `plugin`: `plugin(obj, name, **options)` registers `obj` as a plugin until the test ends
  (see `register_plugin`);
- `frozen_clock`: `frozen_clock(instant)` fixes the engine clock until the test ends;
  `frozen_clock.travel(timedelta)` moves it.
"""
import contextlib

import pytest

from . import PASSWORD, GraphQLClient, register_plugin


@pytest.fixture
def gql(client):
    return GraphQLClient(client)


@pytest.fixture
def make_user(db):
    from . import make_user as factory

    def make(email="member@example.com", password=PASSWORD, confirmed=True, **extra):
        return factory(email, password, confirmed, **extra)

    return make


@pytest.fixture
def member(make_user):
    return make_user("member@example.com")


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.com", is_staff=True)


@pytest.fixture
def member_gql(gql, member):
    gql.login(member.email)
    return gql


@pytest.fixture
def staff_gql(client, staff):
    api = GraphQLClient(client)
    api.login(staff.email)
    return api


@pytest.fixture
def taxonomy(db):
    from . import taxonomy as build

    return build()


@pytest.fixture
def make_vendor(make_user):
    from . import make_vendor as factory

    return factory


@pytest.fixture
def make_product(taxonomy):
    from . import make_product as factory

    def make(vendor, slug, name_zh="商品", **options):
        return factory(vendor, slug, taxonomy, name_zh, **options)

    return make


@pytest.fixture
def plugin():
    with contextlib.ExitStack() as stack:
        def register(obj, name, **options):
            return stack.enter_context(register_plugin(obj, name, **options))

        yield register


class _FrozenClock:
    def __init__(self):
        from marketplace.core import clock

        self._clock = clock

    def __call__(self, instant):
        self._clock.set_frozen(instant)
        return instant

    def travel(self, delta):
        return self._clock.travel(delta)

    def now(self):
        return self._clock.now()


@pytest.fixture
def frozen_clock():
    from marketplace.core import clock

    fixture = _FrozenClock()
    try:
        yield fixture
    finally:
        clock.reset()
