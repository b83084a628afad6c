"""Rows for the engine's test that every connection keeps a constant number of queries
(tests/test_query_counts.py): `create(count, users)` makes `count` of everything this
plugin's connections list."""


def create(count, users, vendors):
    from plugins.membership.demo import PLAN
    from plugins.membership.services import memberships, setup

    setup.save_plan(dict(PLAN))
    for user in users[:count]:
        memberships.grant(user.pk, PLAN["code"], "query-count test")
