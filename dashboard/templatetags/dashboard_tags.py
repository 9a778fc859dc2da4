from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def chartjs_script() -> str:
    """The Chart.js script tag, from ``VITRINE_CHARTJS_URL`` with its integrity.

    A URL that is not absolute (no scheme, no leading slash) names a static file,
    such as the copy ``make vendor`` puts under static/vendor/.
    """
    url = settings.VITRINE_CHARTJS_URL
    if not url.startswith(("https://", "http://", "//", "/")):
        url = static(url)
    integrity = settings.VITRINE_CHARTJS_INTEGRITY
    if not integrity:
        return format_html('<script src="{}" defer></script>', url)
    return format_html(
        '<script src="{}" integrity="{}" crossorigin="anonymous" defer></script>',
        url,
        integrity,
    )


@register.filter
def percent(value) -> str:
    """0.8734 -> "87.3 %"; no value -> an em dash."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f} %"


@register.filter
def milliseconds(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):,.0f} ms"


@register.filter
def seconds(value) -> str:
    """A duration in seconds, as people say it: "45 s", "12 min", "3.5 h"."""
    if value is None or value == "":
        return "—"
    value = float(value)
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"
