"""gunicorn settings for `python bench/listing.py --gc-freeze`: an experiment, not the
deployment. After a worker has loaded the app (and the URLconf and GraphQL schema), move
every object alive then out of the cyclic garbage collector's reach (gc.freeze) and make
young-generation collections rarer, so that full collections stop walking Django's and
graphene's long-lived objects in the middle of requests."""
import gc


def post_worker_init(worker):
    from django.urls import get_resolver

    get_resolver().url_patterns  # imports the views, hence the GraphQL schema
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
