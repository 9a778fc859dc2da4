"""Revoke a user's API tokens when their password changes.

A password can change through pages and commands that are Django's, not ours
(the password page, the admin's password form, ``manage.py changepassword``,
``set_password()`` in any script), so no service of ours sees every change. The
one place that does is ``AbstractBaseUser.save()``, which calls
``password_validation.password_changed()`` after saving a password that
``set_password()`` set, and on that hook each entry of
``AUTH_PASSWORD_VALIDATORS`` is told of the change. This entry validates nothing;
it revokes. It is preferred to a ``pre_save`` signal comparing hashes, which
would also fire when signing in re-hashes an unchanged password for a newer
hasher, and would cost a read on every save of a user.
"""

from accounts import services


class ApiTokensRevokedOnPasswordChange:
    """A password "validator" whose only work is ``password_changed()``."""

    def validate(self, password: str, user=None) -> None:
        return None

    def password_changed(self, password: str, user=None) -> None:
        if user is not None and user.pk is not None:
            services.api_tokens_revoke_all(user=user)

    def get_help_text(self) -> str:
        return "Changing your password revokes every API token you have made."
