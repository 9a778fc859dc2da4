"""Local development on the embedded defaults."""

from config.settings.base import *  # noqa: F403
