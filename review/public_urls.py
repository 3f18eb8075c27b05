from django.urls import path

from review import public

urlpatterns = [path("accountability/", public.accountability, name="accountability")]
