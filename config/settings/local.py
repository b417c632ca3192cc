"""Development on one machine: SQLite and in-process tasks unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", "concord-local-development-key-not-for-deployment")
# Serve static files straight from static/ and the apps while developing (no collectstatic step).
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
