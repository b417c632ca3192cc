"""The app's URLs plus a view that only asks PostgreSQL for SELECT 1: the floor the load figures are read against.

Used by the scale benchmark's web server only (bench.scale_settings); the app never routes to it.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as app_urlpatterns


def select_one(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("1", content_type="text/plain")


urlpatterns = [path("bench/select-1", select_one, name="bench_select_one"), *app_urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
