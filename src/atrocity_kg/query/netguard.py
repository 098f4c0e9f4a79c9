"""Whether the server may send a request to a URL: an allow-list first, then every address the
host resolves to must be public, so a request can never be aimed at the machine itself, the
private network or a cloud metadata service."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")


class ForbiddenDestinationError(ValueError):
    """The server must not send a request to this URL; the message says why."""


def check_destination(url: str, allowed: Collection[str]) -> None:
    """Raise ForbiddenDestinationError unless ``url`` is allow-listed and resolves only to
    global addresses.

    The check resolves the name itself; a caller that connects later resolves again, so a name
    whose answer changes in between (DNS rebinding) is only stopped if the caller connects to
    an address it has checked.
    """
    parts = _split(url)
    normalised = _normalise(parts)
    permitted: set[str] = set()
    for entry in allowed:
        try:
            permitted.add(_normalise(_split(entry)))
        except ForbiddenDestinationError:
            continue
    if normalised not in permitted:
        raise ForbiddenDestinationError(f"{url} is not on the list of allowed endpoints")
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[parts.scheme.lower()]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise ForbiddenDestinationError(
            f"{url}: the host {host!r} does not resolve ({error})"
        ) from None
    if not answers:
        raise ForbiddenDestinationError(f"{url}: the host {host!r} resolves to no address")
    for answer in answers:
        address = ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0])
        problem = why_not_global(address)
        if problem:
            raise ForbiddenDestinationError(
                f"{url}: the host {host!r} resolves to {address}, {problem}"
            )


def why_not_global(address: IPAddress) -> str | None:
    """Why a request must not go to ``address``, or None when it is a public address.

    IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64) are judged by that address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            problem = why_not_global(embedded)
            return f"which carries {embedded}, {problem}" if problem else None
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    )
    for attribute, description in checks:
        if getattr(address, attribute):
            return description
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "a shared (carrier-grade NAT) address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _split(url: str) -> SplitResult:
    """Split a URL, refusing what the server never requests: other schemes, credentials,
    a missing host or a bad port."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as error:
        raise ForbiddenDestinationError(f"{url}: not a valid URL ({error})") from None
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise ForbiddenDestinationError(f"{url}: only http and https URLs may be requested")
    if parts.username is not None or parts.password is not None:
        raise ForbiddenDestinationError(f"{url}: credentials in the URL are refused")
    if not parts.hostname:
        raise ForbiddenDestinationError(f"{url}: the URL names no host")
    return parts


def _normalise(parts: SplitResult) -> str:
    """Scheme and host lower-cased, the scheme's default port dropped, an empty path made "/",
    the fragment (never sent) dropped."""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path or '/'}{query}"
