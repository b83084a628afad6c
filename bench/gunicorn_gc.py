"""gunicorn settings for `python bench/listing.py --gc-freeze`: an experiment, not the
deployment. After a worker has loaded the app (and the URLconf and GraphQL schema), move
every object alive then out of the cyclic garbage collector's reach (gc.freeze) and make
young-generation collections rarer, so that full collections stop walking Django's and
graphene's long-lived objects in the middle of requests."""
import gc
import runpy
from pathlib import Path

# Everything else as every app server has it (bind, workers, threads from the environment).
globals().update({k: v for k, v in runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
                  .items() if not k.startswith("__")})


def post_worker_init(worker):
    from django.urls import get_resolver

    get_resolver().url_patterns  # imports the views, hence the GraphQL schema
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
