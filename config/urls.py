from django.contrib import admin
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt


def favicon(request):
    """Browsers ask for /favicon.ico; the static address is looked up per request, not when the URLs load."""
    return HttpResponsePermanentRedirect(static("concord/favicon.svg"))


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def _imported_at_first_request(view_path: str, **initkwargs):
    """A class-based view imported when it first answers, not when the URLs load. drf-spectacular's views
    import its schema generator, which imports DRF's and Django's test clients and Jinja2: a fifth of a
    second that every process loading the URLs (`manage.py check`, each web server) would pay at start
    for two pages few people open."""
    view = None

    @csrf_exempt  # as DRF's own as_view() declares: its authentication checks CSRF where a session is used
    def imported_view(request, *args, **kwargs):
        nonlocal view
        if view is None:
            view = import_string(view_path).as_view(**initkwargs)
        return view(request, *args, **kwargs)

    return imported_view


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("curation.api.urls")),
    path("api/schema/", _imported_at_first_request("drf_spectacular.views.SpectacularAPIView"), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page needs no inline script (CSP).
    path(
        "api/docs/",
        _imported_at_first_request("drf_spectacular.views.SpectacularSwaggerSplitView", url_name="api_schema"),
        name="api_docs",
    ),
    path("", include("curation.urls")),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
