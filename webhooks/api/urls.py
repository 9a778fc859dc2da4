"""Routes of the webhooks API, registered on the one router in config/api_urls."""

from webhooks.api import views

routes = [("webhooks", views.WebhookViewSet, "webhook")]

urlpatterns: list = []
