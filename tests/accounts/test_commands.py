import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, User


def test_create_merchant_makes_a_merchant_and_its_owner(db, capsys):
    call_command(
        "create_merchant",
        "Blue Shop",
        "--username",
        "blue",
        "--email",
        "b@example.com",
        "--password",
        "a-fine-long-password",
    )
    user = User.objects.get(username="blue")
    membership = Membership.objects.get(user=user)
    assert membership.merchant.name == "Blue Shop"
    assert membership.role == Membership.Role.OWNER
    assert user.check_password("a-fine-long-password")
    assert "Created merchant 'Blue Shop'" in capsys.readouterr().out


def test_create_merchant_refuses_a_taken_username(db):
    User.objects.create_user(username="taken", password="x")
    with pytest.raises(CommandError, match="username 'taken' is taken"):
        call_command(
            "create_merchant",
            "Other",
            "--username",
            "taken",
            "--email",
            "o@example.com",
            "--password",
            "a-fine-long-password",
        )


def test_create_merchant_refuses_a_weak_password(db):
    with pytest.raises(CommandError, match=r"too short|too common"):
        call_command(
            "create_merchant",
            "Weak",
            "--username",
            "weak",
            "--email",
            "w@example.com",
            "--password",
            "abc",
        )
    assert not User.objects.filter(username="weak").exists()


def test_create_merchant_refuses_a_duplicate_name(db):
    args = ["--email", "x@example.com", "--password", "a-fine-long-password"]
    call_command("create_merchant", "Twin", "--username", "one", *args)
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_merchant", "Twin", "--username", "two", *args)
    assert not User.objects.filter(username="two").exists()


def test_create_merchant_without_password_and_terminal_says_how(db, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="Give --password"):
        call_command(
            "create_merchant", "NoPw", "--username", "np", "--email", "n@example.com"
        )


def test_seed_demo_prints_logins_and_can_run_twice(db, capsys, settings):
    from accounts.models import User

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "merchant  demo / vitrine-demo" in out
    assert "Active model version: imagenet-taxonomy-v1" in out
    demo = User.objects.get(username="demo")
    assert demo.membership.merchant.name == "Demo Shop"
    assert demo.check_password("vitrine-demo")
    assert User.objects.get(username="staff").is_staff


def test_seed_demo_is_refused_outside_debug(db, settings):
    from django.core.management import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="local use only"):
        call_command("seed_demo")
