"""Routes of the classification API, registered on the one router in
config/api_urls."""

from django.urls import path

from classification.api import views

routes = [
    ("predictions", views.PredictionViewSet, "prediction"),
    ("reviews", views.DecisionViewSet, "review"),
    ("models", views.ModelVersionViewSet, "model-version"),
    ("jobs", views.JobViewSet, "job"),
]

urlpatterns = [
    path("classify/", views.ClassifyView.as_view(), name="classify"),
    path("stats/", views.StatsView.as_view(), name="stats"),
]
