"""A WSGI application that answers with its worker's cycle-collector settings, for
tests/test_gunicorn_gc.py to run under gunicorn.conf.py as the portal runs."""

import gc
import json


def application(environ, start_response):
    body = json.dumps({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
