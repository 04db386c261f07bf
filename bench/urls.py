from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as parta_urlpatterns


def bare(request):
    """The yardstick: a Django view that only returns constant JSON."""
    return JsonResponse({"allowed": True, "until": None})


urlpatterns = [path("bench/bare/", bare), *parta_urlpatterns]
