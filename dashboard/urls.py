from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("data/", views.data_json, name="data"),
    path("export/<slug:chart>.csv", views.export_csv, name="export"),
]
