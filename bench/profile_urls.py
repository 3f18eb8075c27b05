"""The portal's URLs plus two in-process floors for bench/profile_requests.py (never deployed).

``/bench-floor/ok`` answers "ok" and ``/bench-floor/insert`` parses a small JSON
body and INSERTs one row, like bench/floor's views, but through the portal's
own middleware: dividing by them gives in-process ratios that the machine's
load disturbs alike.
"""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

INSERT_TABLE = "bench_profile_insert"


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@csrf_exempt
def insert(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {INSERT_TABLE} (target_id, score) VALUES (%s, %s) RETURNING id",  # noqa: S608 - a constant
            [data["target_id"], data["score"]],
        )
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [
    path("bench-floor/ok", ok),
    path("bench-floor/insert", insert),
    path("", include("portal.urls")),
]
