from django.urls import path

from floor import views

urlpatterns = [
    path("ok", views.ok),
    path("drf-list", views.IndicatorListView.as_view()),
    path("insert", views.insert),
    path("live-chapter/<int:pk>", views.live_chapter),
]
