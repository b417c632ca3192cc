from django.conf import settings


def session_idle(request) -> dict:
    """How long a signed-in page may sit idle, for the sign-out warning (static/concord/session.js)."""
    return {"session_idle_seconds": settings.CONCORD_SESSION_IDLE_MINUTES * 60}
