"""Browser contexts already signed in, through a session Django's test client made."""

from django.test import Client

VIEWPORT = {"width": 1366, "height": 900}


def session_cookie(user, live_server) -> dict:
    """The session cookie of ``user``, signed in, for the live server's address."""
    client = Client()
    client.force_login(user)
    return {
        "name": "sessionid",
        "value": client.cookies["sessionid"].value,
        "url": live_server.url,
    }


def signed_in_context(browser, live_server, user, viewport=VIEWPORT):
    """A new browser context whose requests come from ``user``."""
    context = browser.new_context(viewport=viewport)
    context.add_cookies([session_cookie(user, live_server)])
    return context
