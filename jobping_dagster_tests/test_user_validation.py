import pytest

from jobping_dagster.settings import InvalidConfiguration, Settings
from jobping_dagster.users.validation import (
    InvalidSetting,
    mask_webhook,
    parse_allowed_hosts,
    validate_email,
    validate_min_score,
    validate_prompt,
    validate_webhook_url,
)

TOKEN = "sEcReT-T0ken_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU"
WEBHOOK = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"


def test_invalid_setting_reads_field_then_message():
    exc = InvalidSetting("min_score", "must be a whole number from 0 to 100 (got 150)")
    assert isinstance(exc, ValueError)
    assert exc.field == "min_score"
    assert exc.message == "must be a whole number from 0 to 100 (got 150)"
    assert str(exc) == "min_score: must be a whole number from 0 to 100 (got 150)"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+jobs@Example.CO.uk ", "ada.lovelace+jobs@example.co.uk"),
    ],
)
def test_validate_email_accepts(value, expected):
    assert validate_email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a b@example.com",
        "a@b@example.com",
        "ada@example..com",
        "x" * 250 + "@example.com",
        None,
        42,
    ],
)
def test_validate_email_rejects(value):
    with pytest.raises(InvalidSetting) as info:
        validate_email(value)
    assert info.value.field == "email"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Remote data jobs", "Remote data jobs"),
        ("  python, berlin \n", "python, berlin"),
        ("x" * 4000, "x" * 4000),
    ],
)
def test_validate_prompt_accepts(value, expected):
    assert validate_prompt(value) == expected


@pytest.mark.parametrize("value", ["", "   \n\t", "x" * 4001, "nul\x00byte", None, 5])
def test_validate_prompt_rejects(value):
    with pytest.raises(InvalidSetting) as info:
        validate_prompt(value)
    assert info.value.field == "prompt"


@pytest.mark.parametrize(
    "value, expected", [(0, 0), (70, 70), (100, 100), ("70", 70), (" 85 ", 85), (70.0, 70)]
)
def test_validate_min_score_accepts(value, expected):
    assert validate_min_score(value) == expected


@pytest.mark.parametrize(
    "value", [70.5, -1, 101, 150, "abc", "", "70.5", "1e2", None, True, float("nan"), [70]]
)
def test_validate_min_score_rejects(value):
    with pytest.raises(InvalidSetting) as info:
        validate_min_score(value)
    assert info.value.field == "min_score"


def test_min_score_message_shows_the_bad_value():
    with pytest.raises(InvalidSetting) as info:
        validate_min_score(150)
    assert str(info.value) == "min_score: must be a whole number from 0 to 100 (got 150)"


@pytest.mark.parametrize(
    "url, expected",
    [
        (WEBHOOK, WEBHOOK),
        (f"  {WEBHOOK}  ", WEBHOOK),
        (f"https://discordapp.com/api/webhooks/1/{TOKEN}", None),
        (f"https://ptb.discord.com/api/webhooks/1/{TOKEN}", None),
        (f"https://canary.discord.com/api/webhooks/1/{TOKEN}", None),
        (f"https://discord.com/api/v10/webhooks/1/{TOKEN}", None),
        (f"https://discord.com/api/webhooks/1/{TOKEN}?thread_id=42", None),
        (
            f"HTTPS://Discord.COM/api/webhooks/1/{TOKEN}",
            f"https://discord.com/api/webhooks/1/{TOKEN}",
        ),
        (
            f"https://discord.com:443/api/webhooks/1/{TOKEN}",
            f"https://discord.com/api/webhooks/1/{TOKEN}",
        ),
    ],
)
def test_validate_webhook_url_accepts_discord(url, expected):
    assert validate_webhook_url(url) == (expected or url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        None,
        f"http://discord.com/api/webhooks/1/{TOKEN}",  # not https
        f"https://evil.example/api/webhooks/1/{TOKEN}",
        f"https://discord.com.evil.example/api/webhooks/1/{TOKEN}",
        f"https://discord.com./api/webhooks/1/{TOKEN}",
        f"https://user:{TOKEN}@discord.com/api/webhooks/1/{TOKEN}",
        f"https://discord.com\\@evil.example/api/webhooks/1/{TOKEN}",
        f"https://discord.com:8443/api/webhooks/1/{TOKEN}",
        f"https://discord.com:99999/api/webhooks/1/{TOKEN}",
        f"https://discord.com/api/webhooks/abc/{TOKEN}",  # id not numeric
        "https://discord.com/api/webhooks/1",  # no token
        f"https://discord.com/api/webhooks/1/{TOKEN}/slack",
        f"https://discord.com/api/channels/1/{TOKEN}",
        f"https://discord.com/api/webhooks/1/{TOKEN}#frag",
        f"https://discord.com/api/webhooks/1/{TOKEN} x",
        f"https://discórd.com/api/webhooks/1/{TOKEN}",
        f"ftp://discord.com/api/webhooks/1/{TOKEN}",
        f"javascript://discord.com/api/webhooks/1/{TOKEN}",
        f"http://127.0.0.1:8080/api/webhooks/1/{TOKEN}",  # not allowed by the operator
    ],
)
def test_validate_webhook_url_rejects_without_echoing_the_token(url):
    with pytest.raises(InvalidSetting) as info:
        validate_webhook_url(url)
    assert info.value.field == "discord_webhook"
    assert str(info.value).startswith("discord_webhook: ")
    assert TOKEN not in str(info.value)
    assert "sEcReT" not in repr(info.value)


def test_error_names_the_host_but_not_the_token():
    with pytest.raises(InvalidSetting) as info:
        validate_webhook_url(f"https://evil.example/api/webhooks/1/{TOKEN}")
    assert "evil.example" in str(info.value)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        ("127.0.0.1:8080", "http://127.0.0.1:8080/api/webhooks/1/tok"),
        ("relay.internal", "https://relay.internal/api/webhooks/1/tok?thread_id=2"),
        ("relay.internal", "http://RELAY.internal/api/v10/webhooks/1/tok"),
        # A default port written out, in the setting or in the URL, is the same port.
        ("relay:80", "http://relay/api/webhooks/1/tok"),
        ("http://relay:80", "http://relay:80/api/webhooks/1/tok"),
        ("relay", "http://relay:80/api/webhooks/1/tok"),
        ("https://relay/path/dropped", "https://relay:443/api/webhooks/1/tok"),
        ("[::1]:8080", "http://[::1]:8080/api/webhooks/1/tok"),
    ],
)
def test_allowed_hosts_admit_webhooks_on_other_hosts(allowed, url):
    hosts = parse_allowed_hosts(allowed)
    assert validate_webhook_url(url, allowed_hosts=hosts).lower() == url.lower()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9999/api/webhooks/1/SECRETtok42",  # other port
        "http://127.0.0.1/api/webhooks/1/SECRETtok42",  # the entry names a port
        "http://user:pw@127.0.0.1:8080/api/webhooks/1/SECRETtok42",
        "ftp://127.0.0.1:8080/api/webhooks/1/SECRETtok42",
        # An allowed host is not a licence for any path on it.
        "http://127.0.0.1:8080/admin/delete-everything",
        "http://127.0.0.1:8080/api/webhooks/1/SECRETtok42#frag",
        "http://127.0.0.1:8080/",
    ],
)
def test_allowed_hosts_are_matched_exactly(url):
    with pytest.raises(InvalidSetting) as info:
        validate_webhook_url(url, allowed_hosts=parse_allowed_hosts("127.0.0.1:8080"))
    assert info.value.field == "discord_webhook"
    assert "SECRETtok42" not in str(info.value)


def test_parse_allowed_hosts():
    assert parse_allowed_hosts(None) == frozenset()
    assert parse_allowed_hosts("") == frozenset()
    assert parse_allowed_hosts(" 127.0.0.1:8080 , Relay.Internal,, http://x.test/path ") == {
        "127.0.0.1:8080",
        "relay.internal",
        "x.test:80",
    }


@pytest.mark.parametrize("text", ["relay:http", "user@relay", "gopher://relay", "relay:99999"])
def test_unreadable_allowed_hosts_are_refused_by_the_settings(text):
    with pytest.raises(InvalidConfiguration) as info:
        Settings.from_env({"JOBPING_WEBHOOK_ALLOWED_HOSTS": text, "JOBPING_HOME": "/tmp/jp"})
    assert "JOBPING_WEBHOOK_ALLOWED_HOSTS" in str(info.value)


def test_the_settings_and_the_validator_read_allowed_hosts_alike():
    settings = Settings.from_env(
        {"JOBPING_WEBHOOK_ALLOWED_HOSTS": "http://relay:80", "JOBPING_HOME": "/tmp/jp"}
    )
    url = "http://relay/api/webhooks/1/tok"
    assert validate_webhook_url(url, settings.webhook_allowed_hosts) == url


@pytest.mark.parametrize(
    "url, expected",
    [
        (WEBHOOK, "https://discord.com/api/webhooks/1234…/****"),
        (
            f"https://discord.com/api/v10/webhooks/98765/{TOKEN}?thread_id=1",
            "https://discord.com/api/v10/webhooks/9876…/****",
        ),
        (
            "http://127.0.0.1:8080/api/webhooks/1001/tok",
            "http://127.0.0.1:8080/api/webhooks/1001…/****",
        ),
        (f"https://relay.internal/hooks/{TOKEN}", "https://relay.internal/****"),
        (f"https://user:{TOKEN}@discord.com/x", "https://discord.com/****"),
        ("not a url", "****"),
        ("", "****"),
        (None, "****"),
        (12345, "****"),
        ("https://discord.com:notaport/api/webhooks/1/x", "****"),
        (f"javascript:{TOKEN}", "****"),
    ],
)
def test_mask_webhook(url, expected):
    masked = mask_webhook(url)
    assert masked == expected
    assert TOKEN not in masked
