"""Downloading a recording link under a strict policy (SPEC §8).

https only (http too with DEBUG), hosts from RECORDING_DOWNLOAD_HOSTS (".example.com" matches
subdomains), every resolved address public (DEBUG also allows loopback, never private
networks), the connection pinned to the vetted address (no second DNS lookup to rebind),
redirects followed by hand and re-checked at each hop, TLS verified unless DEBUG, streamed in
1 MB chunks with the RECORDING_MAX_BYTES cap and RECORDING_DOWNLOAD_TIMEOUT per socket wait.
"""

import hashlib
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from webinars.recordings.errors import DownloadError, DownloadRefused

CHUNK_SIZE = 1024 * 1024


MAX_REDIRECTS = 5


def download_url_allowed(*, url: str) -> str | None:
    """Why ``url`` may not be downloaded (scheme or host), or None; no DNS lookup here."""
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme != "https" and not (settings.DEBUG and scheme == "http"):
        return "only https links are accepted"
    host = (parts.hostname or "").lower()
    if not host or not _host_allowed(host):
        return f"host {host or '?'} is not in RECORDING_DOWNLOAD_HOSTS"
    return None


def _host_allowed(host: str) -> bool:
    for entry in settings.RECORDING_DOWNLOAD_HOSTS:
        entry = entry.strip().lower()
        if entry.startswith("."):
            if host.endswith(entry) or host == entry[1:]:
                return True
        elif host == entry:
            return True
    return False


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if settings.DEBUG and ip.is_loopback:
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


@dataclass
class _Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str


def _check_target(url: str) -> _Target:
    """Policy check of one hop; returns the vetted address the connection is pinned to."""
    reason = download_url_allowed(url=url)
    if reason:
        raise DownloadRefused(reason)
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DownloadError(f"cannot resolve {host}: {exc.strerror}")
    addresses = [info[4][0] for info in infos]
    refused = [a for a in addresses if not _address_allowed(a)]
    if refused:
        raise DownloadRefused(f"{host} resolves to a non-public address ({refused[0]})")
    if not addresses:
        raise DownloadError(f"cannot resolve {host}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port, addresses[0], path)


def _open(target: _Target):
    """GET pinned to the vetted address (no second DNS lookup), TLS verified unless DEBUG."""
    timeout = urllib3.Timeout(
        connect=settings.RECORDING_DOWNLOAD_TIMEOUT, read=settings.RECORDING_DOWNLOAD_TIMEOUT
    )
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
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        return pool.urlopen(
            "GET",
            target.path,
            headers={"Host": host_header, "User-Agent": "cedar-portal/1"},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise DownloadError(f"cannot fetch from {target.host}: {type(exc).__name__}")


def fetch_to_file(url: str, fh) -> tuple[int, str]:
    """Stream ``url`` into ``fh``; returns (size, sha256). Redirects are followed by hand."""
    max_bytes = settings.RECORDING_MAX_BYTES
    for _hop in range(MAX_REDIRECTS + 1):
        target = _check_target(url)
        response = _open(target)
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise DownloadError(f"{target.host} redirected without a Location")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise DownloadError(f"{target.host} answered HTTP {response.status}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise DownloadRefused(f"the file is larger than RECORDING_MAX_BYTES ({length})")
            digest, size = hashlib.sha256(), 0
            try:
                for chunk in response.stream(CHUNK_SIZE, decode_content=False):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadRefused("the file is larger than RECORDING_MAX_BYTES")
                    digest.update(chunk)
                    fh.write(chunk)
            except urllib3.exceptions.HTTPError as exc:
                raise DownloadError(f"download from {target.host} broke: {type(exc).__name__}")
            if length.isdigit() and size != int(length):
                raise DownloadError(f"short read from {target.host} ({size}/{length} bytes)")
            return size, digest.hexdigest()
        finally:
            response.release_conn()
            response.close()
    raise DownloadRefused(f"more than {MAX_REDIRECTS} redirects")
