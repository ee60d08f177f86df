"""Downloading a recording link under the outbound policy (``webinars.outbound``).

On top of that policy (https only, public addresses after DNS resolution, the connection
pinned to the vetted address, TLS verified; DEBUG relaxes it for loopback): hosts from
RECORDING_DOWNLOAD_HOSTS (".example.com" matches subdomains), redirects followed by hand and
re-checked at each hop, streamed in 1 MB chunks with the RECORDING_MAX_BYTES cap and
RECORDING_DOWNLOAD_TIMEOUT per socket wait.
"""

import hashlib
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from webinars.outbound import (
    OutboundError,
    OutboundRefused,
    target_open,
    target_resolve,
    url_refusal,
)
from webinars.outbound import Target as _Target
from webinars.recordings.errors import DownloadError, DownloadRefused

CHUNK_SIZE = 1024 * 1024


MAX_REDIRECTS = 5


def download_url_allowed(*, url: str) -> str | None:
    """Why ``url`` may not be downloaded (scheme or host), or None; no DNS lookup here."""
    reason = url_refusal(url=url)
    if reason:
        return reason
    host = urlsplit(url).hostname.lower()
    if not _host_allowed(host):
        return f"host {host} is not in RECORDING_DOWNLOAD_HOSTS"
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


@contextmanager
def _as_download_errors():
    """The outbound policy's refusals and failures, as the ingest's own two errors."""
    try:
        yield
    except OutboundRefused as exc:
        raise DownloadRefused(str(exc)) from exc
    except OutboundError as exc:
        raise DownloadError(str(exc)) from exc


def _check_target(url: str) -> _Target:
    """Policy check of one hop; returns the vetted address the connection is pinned to."""
    reason = download_url_allowed(url=url)
    if reason:
        raise DownloadRefused(reason)
    with _as_download_errors():
        return target_resolve(url=url)


def _open(target: _Target):
    """GET pinned to the vetted address (no second DNS lookup), TLS verified unless DEBUG."""
    with _as_download_errors():
        return target_open(
            target,
            connect_timeout=settings.RECORDING_DOWNLOAD_TIMEOUT,
            read_timeout=settings.RECORDING_DOWNLOAD_TIMEOUT,
        )


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
