"""Settings of the scale benchmark's web server: the test settings (as every benchmark) with the floor view routed."""

from config.settings.test import *  # noqa: F403

ROOT_URLCONF = "bench.scale_urls"
