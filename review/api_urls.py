from django.urls import path

from review import public

urlpatterns = [path("accountability/", public.AccountabilityApi.as_view(), name="review-accountability")]
