"""SlackChannel against a local HTTP server on 127.0.0.1; the webhook address is a secret."""

from __future__ import annotations

import pytest

from scheduler.errors import DeliveryError
from scheduler.notify import SlackChannel
from tests.notify.servers import HOST, WebhookServer, free_port


def test_posts_the_text_as_json(webhook: WebhookServer) -> None:
    SlackChannel(webhook.url("/services/T0/B0/OKSECRET")).post("Marco and Ana missed 2027-W05 ✗")
    assert webhook.bodies == [{"text": "Marco and Ana missed 2027-W05 ✗"}]


@pytest.mark.parametrize(
    ("path", "status", "transient"),
    [
        ("/services/T0/B0/BUSYSECRET", 500, True),
        ("/services/T0/B0/SLOWDOWNSECRET", 429, True),
        ("/services/T0/B0/GONESECRET", 404, False),
    ],
)
def test_http_errors(webhook: WebhookServer, path: str, status: int, transient: bool) -> None:
    channel = SlackChannel(webhook.url(path))
    with pytest.raises(DeliveryError) as caught:
        channel.post("hello")
    error = caught.value
    assert error.transient is transient
    assert str(error).startswith(f"the Slack webhook: answered HTTP {status}")
    assert "SECRET" not in str(error) and "SECRET" not in repr(channel)
    # Nothing chained either: urllib's exceptions carry the address.
    assert error.__cause__ is None and error.__suppress_context__


def test_the_answer_body_is_quoted(webhook: WebhookServer) -> None:
    with pytest.raises(DeliveryError, match=r"HTTP 404 \(no_service\)"):
        SlackChannel(webhook.url("/services/T0/B0/GONESECRET")).post("hello")


def test_a_refused_connection_is_transient() -> None:
    channel = SlackChannel(f"http://{HOST}:{free_port()}/services/T0/B0/SECRET")
    with pytest.raises(DeliveryError) as caught:
        channel.post("hello")
    assert caught.value.transient is True
    assert str(caught.value) == "the Slack webhook: connection refused"


def test_a_silent_server_times_out_transiently(silent_port: int) -> None:
    channel = SlackChannel(f"http://{HOST}:{silent_port}/services/T0/B0/SECRET", timeout=0.2)
    with pytest.raises(DeliveryError, match=r"no answer within 0\.2 seconds") as caught:
        channel.post("hello")
    assert caught.value.transient is True
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/SECRET", "SECRET", ""])
def test_only_web_addresses_are_accepted_and_never_echoed(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        SlackChannel(url)
    assert "SECRET" not in str(caught.value) and "passwd" not in str(caught.value)
