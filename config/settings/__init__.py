"""Pick the settings for the environment.

``DJANGO_DEBUG=false`` selects production hardening (and fails fast on missing
secrets); anything else runs the local, embedded-defaults profile.
"""

from config.settings.base import env

if env.bool("DJANGO_DEBUG", default=True):
    from config.settings.local import *  # noqa: F403
else:
    from config.settings.production import *  # noqa: F403
