"""The outbound-address guard: only allow-listed http(s) URLs whose host resolves to public
addresses. Each refused case is put on the allow-list, so the address check itself must stop it."""

from __future__ import annotations

import ipaddress

import pytest

from atrocity_kg.query.netguard import ForbiddenDestinationError, check_destination, why_not_global

PUBLIC_ENDPOINT = "http://93.184.215.14/sparql"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/sparql", "127.0.0.1, a loopback address"),
        ("http://localhost:7878/query", "127.0.0.1, a loopback address"),
        ("http://[::1]/sparql", "::1, a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://10.0.0.5/sparql", "10.0.0.5, a private address"),
        ("http://192.168.1.20/sparql", "192.168.1.20, a private address"),
        ("http://172.16.0.1/sparql", "a private address"),
        ("http://[fd00::1]/sparql", "a private address"),
        ("http://100.64.0.1/sparql", "a shared (carrier-grade NAT) address"),
        ("http://0.0.0.0/sparql", "an unspecified address"),
        ("http://224.0.0.251/sparql", "a multicast address"),
        ("http://240.0.0.1/sparql", "240.0.0.1, a reserved address"),
        ("http://[::ffff:127.0.0.1]/sparql", "carries 127.0.0.1, a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "carries 169.254.169.254, a link-local address"),
        ("http://[2002:a00:1::]/sparql", "carries 10.0.0.1, a private address"),
        ("http://[64:ff9b::7f00:1]/sparql", "carries 127.0.0.1, a loopback address"),
        ("http://2130706433/sparql", "127.0.0.1, a loopback address"),
        ("http://0177.0.0.1/sparql", "127.0.0.1, a loopback address"),
        ("http://0x7f.1/sparql", "127.0.0.1, a loopback address"),
        ("http://0xa9fea9fe/", "169.254.169.254, a link-local address"),
    ],
)
def test_non_public_address_refused_even_when_allowed(url: str, reason: str) -> None:
    with pytest.raises(ForbiddenDestinationError, match="resolves to") as caught:
        check_destination(url, [url])
    assert reason in str(caught.value)
    assert url in str(caught.value)


def test_public_literal_on_the_list_allowed() -> None:
    check_destination(PUBLIC_ENDPOINT, [PUBLIC_ENDPOINT])
    check_destination(
        "https://[2606:4700:4700::1111]/dns-query", ["https://[2606:4700:4700::1111]/dns-query"]
    )


@pytest.mark.parametrize(
    "spelling",
    [
        "HTTP://93.184.215.14/sparql",
        "http://93.184.215.14:80/sparql",
        "http://93.184.215.14/sparql#results",
    ],
)
def test_url_compared_after_normalising(spelling: str) -> None:
    check_destination(spelling, [PUBLIC_ENDPOINT])
    check_destination(PUBLIC_ENDPOINT, [spelling])


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/other",
        "http://93.184.215.14:8080/sparql",
        "https://93.184.215.14/sparql",
        "http://93.184.215.14/sparql?default-graph-uri=x",
        "http://93.184.215.15/sparql",
    ],
)
def test_url_not_on_the_list_refused(url: str) -> None:
    with pytest.raises(ForbiddenDestinationError, match="not on the list of allowed endpoints"):
        check_destination(url, [PUBLIC_ENDPOINT])


def test_empty_list_refuses_everything() -> None:
    with pytest.raises(ForbiddenDestinationError, match="not on the list"):
        check_destination(PUBLIC_ENDPOINT, [])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://93.184.215.14/sparql", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://93.184.215.14/", "only http and https"),
        ("93.184.215.14/sparql", "only http and https"),
        ("http://user:secret@93.184.215.14/sparql", "credentials in the URL"),
        ("http:///sparql", "names no host"),
        ("http://93.184.215.14:99999/sparql", "not a valid URL"),
    ],
)
def test_malformed_or_foreign_url_refused(url: str, reason: str) -> None:
    with pytest.raises(ForbiddenDestinationError, match=reason):
        check_destination(url, [url, PUBLIC_ENDPOINT])


def test_unresolvable_host_refused() -> None:
    url = "http://no-such-host.invalid/sparql"
    with pytest.raises(ForbiddenDestinationError, match="does not resolve"):
        check_destination(url, [url])


def test_bad_allow_list_entries_are_skipped_not_fatal() -> None:
    check_destination(PUBLIC_ENDPOINT, ["not a url", "ftp://x/", PUBLIC_ENDPOINT])


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("127.0.0.2", False),
        ("100.127.255.255", False),
        ("192.0.2.1", False),
        ("2001:db8::1", False),
        ("ff02::1", False),
        ("::", False),
    ],
)
def test_address_judgement(address: str, public: bool) -> None:
    assert (why_not_global(ipaddress.ip_address(address)) is None) == public
