import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
application = get_asgi_application()

import marketplace.api.schema  # noqa: E402,F401  (build the schema at start-up)

gc.collect()
gc.freeze()  # see marketplace/wsgi.py
gc.set_threshold(50_000, 20, 20)
