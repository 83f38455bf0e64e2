"""The one redaction (journeybridge.redact): every kind of secret and e-mail address masked,
the old names still the same function, excerpts bounded; and the one error tree."""

from __future__ import annotations

import pytest

from journeybridge.redact import excerpt, redact, redact_url, scrub


@pytest.mark.parametrize(("text", "gone", "kept"), [
    ("GET https://shop.example/wp-json/wc/v3/orders?consumer_key=ck_abc123&consumer_secret="
     "cs_def456&page=2", ["ck_abc123", "cs_def456"], ["consumer_key=***", "page=2"]),
    ("http://presta.example/api/customers?ws_key=ABCDEFGHIJ0123456789ABCDEFGHIJ01&display=full",
     ["ABCDEFGHIJ0123456789ABCDEFGHIJ01"], ["ws_key=***", "display=full"]),
    ("oauth_consumer_key=ck_1&oauth_signature=sig%3D&oauth_nonce=n",
     ["ck_1", "sig%3D"], ["oauth_nonce=n"]),
    ("headers: {'Authorization': 'Basic Y2tfMTpjc18y', 'Accept': 'application/json'}",
     ["Y2tfMTpjc18y"], ["'Authorization': '***'", "'Accept'"]),
    ("Authorization: Bearer EAAB-token-xyz", ["EAAB-token-xyz"], ["Authorization: ***"]),
    ("http://WSKEY0123456789ABCDEFGHIJKLMNOPQ:@presta.example/api/",
     ["WSKEY0123456789"], ["http://***@presta.example/api/"]),
    ("https://ck_1:cs_2@shop.example/wp-json/", ["ck_1", "cs_2"], ["https://***@shop.example"]),
    ("postgresql://jb:s3cr@t@db.example:5432/jb", ["s3cr", "t@db"],
     ["postgresql://jb:***@db.example:5432/jb"]),
    ("guest:anna.jansen@example.nl bought twice", ["anna.jansen@"],
     ["guest:a***@example.nl bought twice"]),
    ("access_token=EAAB123 and token=abc", ["EAAB123", "=abc"], ["access_token=***"]),
])
def test_every_kind_of_secret_is_masked(text: str, gone: list[str], kept: list[str]) -> None:
    safe = redact(text)
    for secret in gone:
        assert secret not in safe, safe
    for part in kept:
        assert part in safe, safe


def test_given_secrets_are_masked_wherever_they_are() -> None:
    assert redact("the key KEY-123 was refused (KEY-123)", "KEY-123", "") == (
        "the key *** was refused (***)")


def test_the_old_names_are_the_one_redaction() -> None:
    from journeybridge import config, logs
    from journeybridge.adapters import http

    assert http.redact is redact and logs.scrub is scrub is redact
    assert config.redact_url is redact_url
    assert redact_url("postgresql://u:pw@db/x") == "postgresql://u:***@db/x"
    assert redact_url("sqlite:////var/lib/jb.db") == "sqlite:////var/lib/jb.db"


def test_plain_text_is_left_alone() -> None:
    text = "https://shop.example/wp-json/wc/v3/customers?page=2: HTTP 503 (after 4 tries)"
    assert redact(text) == text


def test_an_excerpt_is_bounded_and_says_how_long_the_text_was() -> None:
    assert excerpt("short") == "short"
    long = "x" * 1_000_000
    cut = excerpt(long, 100)
    assert len(cut) <= 100 and "1000000 characters" in cut


def test_every_error_is_importable_from_the_one_tree_and_from_its_old_home() -> None:
    from journeybridge import errors, state
    from journeybridge.events import graph
    from journeybridge.stages import segments
    from journeybridge.state import store

    assert state.ShopBusy is store.ShopBusy is errors.ShopBusy
    assert state.StateStoreError is store.StateStoreError is errors.StateStoreError
    assert segments.SegmentRuleError is errors.SegmentRuleError
    assert issubclass(errors.SegmentRuleError, errors.ConfigError)
    assert graph.GraphError is errors.GraphError
    assert graph.GraphAuthError is errors.GraphAuthError
    assert graph.GraphTransientError is errors.GraphTransientError
    for name in errors.__all__:
        assert name in (errors.__doc__ or ""), f"{name} is not in the documented tree"
