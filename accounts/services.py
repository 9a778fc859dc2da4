"""Writes for users and merchants."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiToken, IdempotencyRecord, Membership, Merchant, User
from config.errors import Conflict, InvalidInput


class MerchantError(InvalidInput):
    """A merchant or user could not be created as asked."""


@transaction.atomic
def merchant_create(
    *, name: str, username: str, email: str, password: str | None
) -> tuple[Merchant, User]:
    """Create a merchant with its first user as owner.

    A ``password`` of None makes an account that cannot sign in until a password
    is set.
    """
    name = name.strip()
    if not name:
        raise MerchantError("The merchant needs a name.")
    slug = slugify(name)[:190] or "merchant"
    if Merchant.objects.filter(slug=slug).exists():
        raise MerchantError(f"A merchant named {name!r} already exists.")
    if User.objects.filter(username=username).exists():
        raise MerchantError(f"The username {username!r} is taken.")
    merchant = Merchant.objects.create(name=name, slug=slug)
    user = User.objects.create_user(username=username, email=email, password=password)
    Membership.objects.create(user=user, merchant=merchant, role=Membership.Role.OWNER)
    return merchant, user


# --- Members ------------------------------------------------------------------


class MemberError(InvalidInput):
    """A member could not be added, changed or removed as asked."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)


class MemberConflict(Conflict, MemberError):
    """The change conflicts with the merchant's members: a taken username, or
    a merchant left without an owner."""


def _lock_owners(merchant: Merchant) -> int:
    """Lock the merchant's row and return how many owners it has.

    Two owners demoting or removing each other at once then take turns, and the
    second sees that the first left one owner only.
    """
    Merchant.objects.select_for_update().filter(pk=merchant.pk).first()
    return Membership.objects.filter(
        merchant=merchant, role=Membership.Role.OWNER
    ).count()


@transaction.atomic
def member_add(
    *, merchant: Merchant, username: str, email: str, password: str, role: str
) -> Membership:
    """Make an account for a new member of ``merchant``, who signs in with
    ``password`` (checked by the password validators) and may change it."""
    username = username.strip()
    try:
        User._meta.get_field("username").run_validators(username)
    except ValidationError as error:
        raise MemberError("invalid", " ".join(error.messages), "username") from error
    if User.objects.filter(username__iexact=username).exists():
        raise MemberConflict(
            "username_taken", f"The username {username!r} is taken.", "username"
        )
    user = User(username=username, email=email)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise MemberError("invalid", " ".join(error.messages), "password") from error
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # taken meanwhile by a concurrent request
        raise MemberConflict(
            "username_taken", f"The username {username!r} is taken.", "username"
        ) from error
    return Membership.objects.create(user=user, merchant=merchant, role=role)


@transaction.atomic
def member_role_change(*, membership: Membership, role: str) -> Membership:
    """Make the member an owner or a plain member; never demote the last owner."""
    owners = _lock_owners(membership.merchant)
    membership.refresh_from_db(fields=["role"])
    if membership.role == role:
        return membership
    if membership.role == Membership.Role.OWNER and owners <= 1:
        raise MemberConflict(
            "last_owner",
            "The merchant's last owner cannot become a plain member: make "
            "another member an owner first.",
            "role",
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    """Take the user out of the merchant and revoke their API tokens.

    The account stays (its history of uploads and reviews points to it) but
    reaches nothing of the merchant any more. The last owner cannot leave.
    """
    owners = _lock_owners(membership.merchant)
    membership.refresh_from_db(fields=["role"])
    if membership.role == Membership.Role.OWNER and owners <= 1:
        raise MemberConflict(
            "last_owner",
            "The merchant's last owner cannot be removed: make another member "
            "an owner first.",
        )
    ApiToken.objects.filter(user_id=membership.user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    membership.delete()


# --- API tokens ---------------------------------------------------------------

# Last-use times are written at most this often, so a busy token does not turn
# every read request into a write.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_KEY_PREFIX = "vt_"


def _token_hash(key: str) -> str:
    # The key carries 256 random bits: a plain SHA-256 cannot be brute-forced,
    # and a fast hash keeps authentication to one indexed lookup.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenExpired(Exception):
    """The key is right but the token's lifetime is over."""

    def __init__(self, token: ApiToken) -> None:
        super().__init__(f"The token expired at {token.expires_at.isoformat()}.")
        self.token = token


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a token for ``user``; return it with its key, which is not stored.

    With ``VITRINE_API_TOKEN_LIFETIME_DAYS`` above 0 the token expires that many
    days from now; else it lasts until revoked.
    """
    key = TOKEN_KEY_PREFIX + secrets.token_urlsafe(32)
    lifetime_days = settings.VITRINE_API_TOKEN_LIFETIME_DAYS
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=key[: len(TOKEN_KEY_PREFIX) + 6],
        key_hash=_token_hash(key),
        expires_at=(
            timezone.now() + timedelta(days=lifetime_days)
            if lifetime_days > 0
            else None
        ),
    )
    return token, key


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """Return the live token with this key (recording its use), or None.

    Raise ApiTokenExpired for a token whose lifetime is over, so that its
    owner is told why it stopped working.
    """
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_token_hash(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise ApiTokenExpired(token)
    if (
        token.last_used_at is None
        or now - token.last_used_at >= TOKEN_LAST_USED_RESOLUTION
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke the token from now on; revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )
    return token


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every live token of ``user``; return how many were live.

    Revoked tokens stay listed, with the time they stopped working.
    """
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


# --- Idempotency keys ---------------------------------------------------------

IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyConflict(Conflict):
    """The key is in use: by a request still running, or for other request data."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


def idempotency_record_claim(
    *, user: User, key: str, fingerprint: str
) -> IdempotencyRecord:
    """Claim ``key`` for a request, or return the finished record of a retry.

    A returned record with a ``response_status`` is a finished earlier request
    with the same key and data: its answer is to be replayed. One without is ours
    to run. Raise IdempotencyConflict while another request with the key runs, or
    when the key was used for a different request.
    """
    cutoff = timezone.now() - IDEMPOTENCY_TTL
    IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint
            )
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:  # released between our insert and this read: try once more
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user, key=key, fingerprint=fingerprint
                )
        except IntegrityError as error:
            raise IdempotencyConflict(
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still running; retry later.",
            ) from error
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request.",
        )
    if record.response_status is None:
        raise IdempotencyConflict(
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still running; retry later.",
        )
    return record


def idempotency_record_complete(
    *, record: IdempotencyRecord, status: int, body
) -> None:
    """Store the answer that retries with the record's key will get."""
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["response_status", "response_body"])


def idempotency_record_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed, so that a retry runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_records_purge() -> int:
    """Delete records past their 24 hours; return how many."""
    cutoff = timezone.now() - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
