"""Rows for the engine's test that every connection keeps a constant number of queries
(tests/test_query_counts.py): `create(count, users, vendors)` makes `count` of everything
this plugin's connections list, at the first vendor (whose id the walk passes), with
the walking staff user holding accounts and history there too."""


def create(count, users, vendors):
    from plugins.vip_tiers.services import balances, campaigns, segments

    store = vendors[0]
    for user in users[:count + 1]:
        for n in range(count):
            balances.adjust(store.pk, user.pk, "points", 10 + n, "query-count test", key=f"qc:{user.pk}:{n}")
        balances.adjust(store.pk, user.pk, "cashback", "1.50", "query-count test", key=f"qc:{user.pk}:cb")
    for vendor in vendors[1:3]:
        for user in users[:count + 1]:
            balances.adjust(vendor.pk, user.pk, "points", 5, "query-count test", key=f"qc:{vendor.pk}:{user.pk}")
    for n in range(count):
        segment = segments.create(store.pk, {"name": f"segment {n}", "rule": {"fact": "points", "op": "gte",
                                                                             "value": 1}})
        campaigns.create(store.pk, {"segment": segment, "name": f"campaign {n}", "subject": "hi", "body": "{name}"})
