from django.urls import path

from feedback import api, public_api

urlpatterns = [
    path("ratings/", api.RatingCreateApi.as_view(), name="feedback-rating-create"),
    path("comments/", api.CommentApi.as_view(), name="feedback-comments"),
    path("survey-responses/", api.SurveyResponseCreateApi.as_view(), name="feedback-survey-response-create"),
    path(
        "aggregates/indicators/<int:pk>/",
        api.IndicatorAggregateApi.as_view(),
        name="feedback-aggregate-indicator",
    ),
    path("aggregates/stories/<int:pk>/", api.StoryAggregateApi.as_view(), name="feedback-aggregate-story"),
    path(
        "aggregates/chapters/<int:pk>/", api.ChapterAggregateApi.as_view(), name="feedback-aggregate-chapter"
    ),
    path("aggregates/surveys/<int:pk>/", api.SurveyAggregateApi.as_view(), name="feedback-aggregate-survey"),
    path(
        "aggregates/districts/",
        api.DistrictAggregateListApi.as_view(),
        name="feedback-aggregate-district-list",
    ),
    path(
        "aggregates/districts/<int:pk>/",
        api.DistrictAggregateApi.as_view(),
        name="feedback-aggregate-district",
    ),
    path(
        "districts/<slug:slug>/summary/",
        public_api.DistrictSummaryApi.as_view(),
        name="feedback-district-summary",
    ),
    path("me/", api.MyDataApi.as_view(), name="feedback-my-data"),
    path("replies/<int:pk>/rating/", api.ReplyRatingApi.as_view(), name="feedback-reply-rating"),
    path("verification/", api.VerificationApi.as_view(), name="feedback-verification"),
    path(
        "verification/confirm/",
        api.VerificationConfirmApi.as_view(),
        name="feedback-verification-confirm",
    ),
]
