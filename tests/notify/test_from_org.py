"""mailer_for and slack_for: the channels an org file and its environment ask for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scheduler.errors import UserError
from scheduler.notify import OutboxMailer, SlackChannel, SmtpMailer, mailer_for, slack_for
from scheduler.orgfile import Org, load_org


@pytest.fixture
def org(example_org_file: Path) -> Org:
    return load_org(example_org_file, env={})


def with_email(org: Org, **changes: object) -> Org:
    return dataclasses.replace(org, email=dataclasses.replace(org.email, **changes))


def test_no_host_means_the_outbox_in_the_data_folder(org: Org) -> None:
    mailer = mailer_for(with_email(org, host=""), {})
    assert isinstance(mailer, OutboxMailer)
    assert mailer.folder == org.data_dir / "outbox"


def test_smtp_with_the_password_from_the_named_variable(org: Org) -> None:
    org = with_email(
        org, host="mail.acme.example", port=587, username="ops", password_env="MY_SMTP_PW"
    )
    mailer = mailer_for(org, {"MY_SMTP_PW": "s3cret!"})
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.username) == ("mail.acme.example", 587, "ops")
    assert mailer.starttls and not mailer.implicit_tls
    assert mailer.where == "SMTP server mail.acme.example:587"
    assert "s3cret!" not in repr(mailer)


def test_smtp_without_login_needs_no_password(org: Org) -> None:
    mailer = mailer_for(with_email(org, host="relay.local", username=""), {})
    assert isinstance(mailer, SmtpMailer)


@pytest.mark.parametrize("env", [{}, {"MY_SMTP_PW": ""}])
def test_a_missing_password_names_the_variable(org: Org, env: dict[str, str]) -> None:
    org = with_email(org, host="mail.acme.example", username="ops", password_env="MY_SMTP_PW")
    with pytest.raises(UserError, match="MY_SMTP_PW") as caught:
        mailer_for(org, env)
    assert "notify.email.password_env" in str(caught.value)


def test_no_slack_unless_a_variable_is_named(org: Org) -> None:
    assert slack_for(dataclasses.replace(org, slack_webhook_env=""), {"X": "https://x"}) is None


def test_slack_from_the_named_variable(org: Org) -> None:
    org = dataclasses.replace(org, slack_webhook_env="SLACK_HOOK")
    channel = slack_for(org, {"SLACK_HOOK": "https://hooks.slack.example/services/T/B/SECRET"})
    assert isinstance(channel, SlackChannel)
    assert "SECRET" not in repr(channel)


@pytest.mark.parametrize("env", [{}, {"SLACK_HOOK": "  "}, {"SLACK_HOOK": "not-a-SECRET-url"}])
def test_a_missing_or_bad_webhook_names_the_variable_not_the_value(
    org: Org, env: dict[str, str]
) -> None:
    org = dataclasses.replace(org, slack_webhook_env="SLACK_HOOK")
    with pytest.raises(UserError, match="SLACK_HOOK") as caught:
        slack_for(org, env)
    assert "SECRET" not in str(caught.value)
