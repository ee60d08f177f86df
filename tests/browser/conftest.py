"""Playwright fixtures: Debian's Chromium against pytest-django's live_server, offline.

Nothing leaves 127.0.0.1. Chromium resolves no host name except the Jitsi domain, which it
maps to a local HTTPS stub (self-signed; the context ignores certificate errors): a guest's
302 to ``https://<jitsi>/<room>?jwt=…`` really lands there, with the token. Playwright's
``page.route`` answers every other outside request: Jitsi's ``external_api.js`` with a stub
that records the moderator page's commands, anything else is aborted and listed.
"""

import datetime
import http.server
import os
import ssl
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.core.cache import cache

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # else SynchronousOnlyOperation

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

FAKE_EXTERNAL_API = """
window.__jitsi = {calls: [], options: null, domain: null};
window.JitsiMeetExternalAPI = function (domain, options) {
  var listeners = {};
  window.__jitsi.domain = domain;
  window.__jitsi.options = {roomName: options.roomName, jwt: options.jwt};
  // Jitsi's API is an event emitter: several listeners may wait for one event.
  this.addEventListener = function (name, fn) {
    (listeners[name] = listeners[name] || []).push(fn);
  };
  this.executeCommand = function (name, arg) { window.__jitsi.calls.push([name, arg]); };
  this.dispose = function () {};
  setTimeout(function () {
    (listeners.videoConferenceJoined || []).forEach(function (fn) {
      fn({roomName: options.roomName});
    });
  }, 50);
};
"""
JITSI_STUB_PAGE = (
    "<!DOCTYPE html><html lang='en'><title>Jitsi stub</title><h1>Jitsi room</h1></html>"
)


def _missing_tools() -> str | None:
    if not CHROMIUM.exists():
        return "needs /usr/bin/chromium (apt-get install -y chromium; .ci/run does)"
    if not AXE.exists():
        return "needs node_modules/axe-core (npm ci at the repository root; .ci/run does)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing_tools()
    if reason is None:
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def _self_signed(host: str, directory: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    Path(cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(key_path).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class JitsiStub:
    """A local HTTPS server standing in for the Jitsi domain; remembers the paths asked for."""

    def __init__(self, host: str):
        self.host = host
        self.requests: list[str] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                stub.requests.append(self.path)
                body = JITSI_STUB_PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        directory = tempfile.mkdtemp(prefix="jitsi-stub-")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*_self_signed(host, directory))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def jitsi_stub():
    with JitsiStub(django_settings.JITSI_DOMAIN) as stub:
        yield stub


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, jitsi_stub):
    resolver = (
        f"--host-resolver-rules=MAP {jitsi_stub.host} 127.0.0.1:{jitsi_stub.port}, "
        "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
    )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [*CHROMIUM_ARGS, resolver],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "ignore_https_errors": True}


@pytest.fixture
def offline(page, live_server, settings, jitsi_stub):
    """The page, with the outside world stubbed; ``offline.blocked`` lists refused URLs."""
    settings.JITSI_JWT_ENABLED = True
    cache.clear()
    local = urlsplit(live_server.url).netloc
    jitsi_host = settings.JITSI_DOMAIN
    jitsi_stub.requests.clear()
    state = {"blocked": [], "jitsi": [], "stub": jitsi_stub.requests}

    def handle(route):
        url = urlsplit(route.request.url)
        if url.hostname == jitsi_host:
            state["jitsi"].append(route.request.url)
            if url.path.endswith("/external_api.js"):
                return route.fulfill(
                    status=200, content_type="application/javascript", body=FAKE_EXTERNAL_API
                )
            return route.fulfill(status=200, content_type="text/html", body=JITSI_STUB_PAGE)
        state["blocked"].append(route.request.url)
        return route.abort()

    # Requests to the live server are not routed at all: Playwright shows a routed request's
    # redirect hops to nobody, while an unrouted request's hop to Jitsi comes through here.
    page.context.route(lambda url: urlsplit(url).netloc != local, handle)
    page.set_default_timeout(10_000)
    page.offline_state = state
    return page


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the current page (WCAG 2 A/AA rules and best practices)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                         nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return result


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def recording_file():
    """A real, tiny WebM (1.5 s, 64×48) that Chromium can decode."""
    return (FIXTURES / "lesson-recording.webm").read_bytes()
