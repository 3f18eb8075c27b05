"""The floor of the HTTP benchmark (bench/http): a bare Django project.

What ``django-admin startproject`` gives (its apps and default middleware) plus
Django REST framework and this one app, on the portal's PostgreSQL database,
served by the same interpreter under the same gunicorn settings as the portal.
It holds none of the portal's apps, so its throughput is what Django, DRF,
gunicorn and PostgreSQL cost on this machine: the floor each portal request is
compared with.
"""
