import os
import sys
import threading

from django.apps import AppConfig

# Set by `make run` (config.embedded) for its web server: load the PHI scanner in the background at start, so
# the first save that scans a text does not wait seconds for Presidio and spaCy to import.
PHI_WARM_ENV = "CONCORD_PHI_WARM"


def _serves_requests() -> bool:
    """False in runserver's file-watching parent process, which never serves a request (its child does)."""
    if "runserver" not in sys.argv:
        return True
    return os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv


class CurationConfig(AppConfig):
    name = "curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        if os.environ.get(PHI_WARM_ENV) == "1" and _serves_requests():
            from curation.phi.scanner import phi_engine

            threading.Thread(target=phi_engine, name="phi-warm", daemon=True).start()
