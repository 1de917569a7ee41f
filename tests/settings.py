"""Settings of the test run: mesh-ui's own, with a SECRET_KEY made for this run.

mesh-ui refuses to start without SECRET_KEY (outside DEBUG); the tests set a random one in the environment before
the settings are read, so processes they start (Celery workers, ``manage.py``) inherit it.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from mesh_ui.settings import *  # noqa: F403

# Each test process alone, emptied before every test (conftest); the tests of the shared default set their own.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
