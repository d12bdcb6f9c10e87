"""The WSGI entry point (gunicorn ``config.wsgi:application``).

Once the application is loaded, everything it built (modules, the app registry, the URL
resolver) is moved out of the garbage collector's sight with :func:`gc.freeze`: those objects
live as long as the process, and a full collection walking them took ~140 ms on a 2-core
machine, a pause that landed on whichever request was running (the queue's p99). Requests still
have their own garbage collected as before.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
get_resolver()._populate()  # built now, so it is frozen with the rest
gc.collect()
gc.freeze()
