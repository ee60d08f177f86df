"""Requests to addresses other people give the portal: recording links and webhook endpoints.

One policy for both (docs/webhooks.md): https only; every address the host resolves to must be
public (no private, loopback, link-local, multicast or reserved address), checked after DNS
resolution; the connection is pinned to the vetted address, so a second DNS answer cannot
rebind it; redirects are never followed here (a caller that follows them checks each hop
again); TLS certificates are verified. With DEBUG on, for development, loopback addresses are
allowed and so is plain http to them — never private networks, and TLS is not verified.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

USER_AGENT = "cedar-portal/1"


class OutboundError(Exception):
    """A failure worth retrying: the name does not resolve, the network or TLS broke."""


class OutboundRefused(OutboundError):
    """The policy refuses the URL or the address it resolves to: no retry can fix it."""


@dataclass(frozen=True)
class Target:
    """One vetted hop: where to connect (``address``) and what to ask for (``host``, ``path``)."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def url_refusal(*, url: str) -> str | None:
    """Why ``url`` may not be requested, judged from its text alone (no DNS), or None."""
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme != "https" and not (settings.DEBUG and scheme == "http"):
        return "only https links are accepted"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "the port is not a number between 0 and 65535"
    if not parts.hostname:
        return "the link names no host"
    return None


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_allowed(address: str) -> bool:
    """A public address; with DEBUG also loopback (never a private network)."""
    ip = _ip(address)
    if settings.DEBUG and ip.is_loopback:
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


def target_resolve(*, url: str) -> Target:
    """Check ``url`` against the policy and resolve it; the result is what to connect to.

    Raises OutboundRefused for a refused URL or address, OutboundError when the name does not
    resolve (DNS may be back on the next try).
    """
    reason = url_refusal(url=url)
    if reason:
        raise OutboundRefused(reason)
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}")
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise OutboundError(f"cannot resolve {host}")
    refused = [a for a in addresses if not address_allowed(a)]
    if refused:
        raise OutboundRefused(f"{host} resolves to a non-public address ({refused[0]})")
    if scheme == "http" and not all(_ip(a).is_loopback for a in addresses):
        raise OutboundRefused("plain http is allowed to loopback addresses only (DEBUG)")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, host, port, addresses[0], path)


def target_open(
    target: Target,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    connect_timeout: float,
    read_timeout: float,
) -> urllib3.BaseHTTPResponse:
    """Send one request to the vetted address (no second DNS lookup, no redirect followed).

    The response is not preloaded: the caller reads what it needs and releases it.
    """
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    options = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        verify = not settings.DEBUG
        import certifi

        options.update(
            cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
            ca_certs=certifi.where() if verify else None,
            server_hostname=target.host,
            assert_hostname=target.host if verify else False,
        )
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, **options)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    host = f"[{target.host}]" if ":" in target.host else target.host
    host_header = host if target.port in (80, 443) else f"{host}:{target.port}"
    try:
        return pool.urlopen(
            method,
            target.path,
            body=body,
            headers={"Host": host_header, "User-Agent": USER_AGENT, **(headers or {})},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise OutboundError(f"cannot reach {target.host}: {type(exc).__name__}")
