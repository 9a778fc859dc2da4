"""Routes of the accounts API, registered on the one router in config/api_urls."""

from django.urls import path

from accounts.api import views

routes = [
    ("auth/tokens", views.ApiTokenViewSet, "api-token"),
    ("merchants", views.MerchantViewSet, "merchant"),
    ("members", views.MemberViewSet, "member"),
]

urlpatterns = [
    path("auth/token/", views.TokenCreateView.as_view(), name="auth-token"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
]
