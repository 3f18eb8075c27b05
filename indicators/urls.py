from django.urls import path

from indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("stories/", views.story_list_latest, name="story_list_latest"),
    path("<int:year>/", views.edition, name="edition"),
    path("<int:year>/chapters/<slug:slug>/", views.chapter, name="chapter"),
    path("<int:year>/indicators/", views.indicator_list, name="indicator_list"),
    path("<int:year>/indicators/<slug:code>/", views.indicator, name="indicator"),
    path("<int:year>/stories/", views.story_list, name="story_list"),
    path("<int:year>/stories/<slug:slug>/", views.story, name="story"),
]
