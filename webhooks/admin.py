"""The webhooks' admin: every write goes through the webhook services, and a
signing secret is shown only on the page that follows its creation or rotation."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from webhooks import services
from webhooks.models import Delivery, Event, Webhook


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=Event.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Webhook
        fields = ["merchant", "url", "events", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if self.instance.pk is None or "url" in self.changed_data:
            try:
                services.webhook_url_check(url=url)
            except services.WebhookError as error:
                raise ValidationError(str(error)) from error
        return url


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["url", "merchant", "active", "created_at"]
    list_filter = ["active"]
    list_select_related = ["merchant"]
    search_fields = ["url", "merchant__name"]
    actions = ["rotate_secret"]

    def get_readonly_fields(self, request, obj=None):
        fields = ["created_by", "created_at", "updated_at"]
        # A webhook stays with its merchant, as in the API.
        return ["merchant", *fields] if obj is not None else fields

    def get_fields(self, request, obj=None):
        fields = ["merchant", "url", "events", "active"]
        return [*fields, "created_by", "created_at", "updated_at"] if obj else fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changed = {
                name: data[name]
                for name in form.changed_data
                if name in ("url", "events", "active")
            }
            services.webhook_update(webhook=obj, **changed)
            return
        created = services.webhook_create(
            merchant=data["merchant"],
            url=data["url"],
            events=list(data["events"]),
            active=data["active"],
            user=request.user,
        )
        # The admin goes on with ``obj`` (its log entry, the next page).
        for field in Webhook._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_page(
            request, [obj], title="Webhook added: its signing secret"
        )

    @admin.action(
        description="Rotate the signing secret (the new one is shown once)",
        permissions=["change"],
    )
    def rotate_secret(self, request, queryset):
        rotated = []
        for webhook in queryset.select_related("merchant"):
            rotated.append(services.webhook_secret_rotate(webhook=webhook))
            self.log_change(request, webhook, "Rotated the signing secret.")
        return self._secrets_page(
            request, rotated, title="New signing secrets", rotated=True
        )

    def _secrets_page(self, request, webhooks, *, title, rotated=False):
        # Rendered in this answer, not carried by a message: a secret never
        # sits in the session or a cookie. The admin's pages are never cached.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "webhooks": webhooks,
            "rotated": rotated,
        }
        return TemplateResponse(request, "admin/webhooks/webhook/secrets.html", context)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "event",
        "webhook",
        "status",
        "attempts",
        "response_code",
        "created_at",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["webhook"]
    readonly_fields = [
        "webhook",
        "event",
        "payload",
        "status",
        "attempts",
        "response_code",
        "error",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
