"""Pick the settings for the environment.

Production is the default: it fails fast on missing secrets. Local mode (debug
pages, embedded secrets) runs only when asked for with ``DJANGO_DEBUG=true``,
as `make run` and the tests do.
"""

import os

from config.settings.base import env

# Python runs this file before any module of the package: when one of them is
# the settings module (config.settings.test), it alone decides.
if os.environ.get("DJANGO_SETTINGS_MODULE", __name__) == __name__:
    if env.bool("DJANGO_DEBUG", default=False):
        from config.settings.local import *  # noqa: F403
    else:
        from config.settings.production import *  # noqa: F403
