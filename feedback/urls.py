from django.urls import path

from feedback import district_views, open_data_views, survey_results_views, views

app_name = "feedback"

urlpatterns = [
    path("participate/<str:kind>/<int:pk>/rate/", views.rate, name="rate"),
    path("participate/<str:kind>/<int:pk>/comment/", views.comment, name="comment"),
    path("survey/", views.survey, name="survey"),
    path("survey/<int:pk>/", views.survey, name="survey_detail"),
    path("survey/results/", survey_results_views.survey_results, name="survey_results"),
    path("survey/<int:pk>/results/", survey_results_views.survey_results, name="survey_results_detail"),
    path("privacy/", views.privacy, name="privacy"),
    path("me/fragment/", views.me_fragment, name="me_fragment"),
    path("my-data/", views.my_data, name="my_data"),
    path("my-data/delete/", views.my_data_delete, name="my_data_delete"),
    path("my-data/notify/", views.my_data_notify, name="my_data_notify"),
    path("my-data/replies/<int:pk>/rate/", views.reply_rate, name="reply_rate"),
    path("verify/", views.verify, name="verify"),
    path("verify/confirm/", views.verify_confirm, name="verify_confirm"),
    path("verify/revoke/", views.verify_revoke, name="verify_revoke"),
    path("open-data/", open_data_views.open_data_page, name="open_data"),
    path("open-data/datapackage.json", open_data_views.open_data_package, name="open_data_package"),
    path("open-data/<slug:name>.<slug:fmt>", open_data_views.open_data_file, name="open_data_file"),
    path("districts/", district_views.district_list, name="districts"),
    path("districts/boundaries.geojson", district_views.district_boundaries, name="district_boundaries"),
    path("districts/<slug:slug>/", district_views.district_detail, name="district"),
]
