"""Routes of the classification API, registered on the one router in
config/api_urls."""

from django.urls import path

from classification.api import thresholds, views

routes = [
    ("predictions", views.PredictionViewSet, "prediction"),
    ("reviews", views.DecisionViewSet, "review"),
    ("models", views.ModelVersionViewSet, "model-version"),
    ("jobs", views.JobViewSet, "job"),
    ("thresholds", thresholds.ThresholdViewSet, "threshold"),
]

urlpatterns = [
    path("classify/", views.ClassifyView.as_view(), name="classify"),
    path("stats/", views.StatsView.as_view(), name="stats"),
]
