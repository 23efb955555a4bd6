"""deploy/nginx/sanctuary.conf run by a real nginx (Debian's nginx-light, which ./run-tests installs) in
front of a stand-in gateway: `nginx -t` accepts it, a body as large as the gateway's largest upload gets
through, a larger one is refused by nginx, and a burst of sign-in POSTs is cut off with 429 while
pages and other requests are not."""

from __future__ import annotations

import importlib
import os
import pwd
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from sanctuary.launch import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = ROOT / "deploy" / "nginx" / "sanctuary.conf"
GATEWAY = ROOT / "services" / "gateway"
UPLOAD_LIMIT = re.compile(r"^(MAX_\w*UPLOAD\w*_BYTES)\s*=", re.MULTILINE)
MB = 1024 * 1024


def gateway_upload_limits() -> dict[str, int]:
    """Every MAX_..._UPLOAD_..._BYTES the gateway's modules define, by module and name."""
    found = {}
    for path in sorted(GATEWAY.rglob("*.py")):
        for name in UPLOAD_LIMIT.findall(path.read_text()):
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            found[f"{module.__name__}.{name}"] = getattr(module, name)
    return found


def nginx_size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", text).groups()
    return int(number) * {"": 1, "k": 1024, "m": MB, "g": 1024 * MB}[unit.lower()]


def body_limit() -> int:
    [size] = re.findall(r"^\s*client_max_body_size\s+(\S+);", NGINX.read_text(), re.MULTILINE)
    return nginx_size(size)


def test_nginx_lets_through_every_upload_the_gateway_accepts() -> None:
    limits = gateway_upload_limits()
    assert limits, "no MAX_..._UPLOAD_..._BYTES in services/gateway"
    assert {name: size for name, size in limits.items() if size > body_limit()} == {}


# -- a real nginx ---------------------------------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    """Answers 200 to everything, having read the whole body (a stand-in for the gateway)."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            length -= len(self.rfile.read(min(length, 1 << 20)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light; ./run-tests installs it)")
    folder = tmp_path_factory.mktemp("nginx")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=sanctuary.example.gov.uk", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")], check=True, capture_output=True)
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    # the TLS server block also listens in plain HTTP here: the tests' process runs under eventlet,
    # whose ssl module requests cannot use
    https, http, plain = free_port(), free_port(), free_port()
    site = (NGINX.read_text()
            .replace("/etc/ssl/sanctuary/", f"{folder}/")
            .replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{gateway.server_port};")
            .replace("listen 443 ssl http2;",
                     f"listen 127.0.0.1:{https} ssl http2; listen 127.0.0.1:{plain};")
            .replace("listen 80;", f"listen 127.0.0.1:{http};"))
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.MULTILINE)  # no IPv6 needed here
    (folder / "sanctuary.conf").write_text(site)
    (folder / "nginx.conf").write_text(
        # workers as whoever runs the tests, so they may write the request bodies into the folder
        f"user {pwd.getpwuid(os.getuid()).pw_name}; daemon off; pid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;\n"
        f"  include {folder}/sanctuary.conf; }}\n")
    command = [binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{plain}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(url, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (folder / "error.log").read_text()
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        gateway.shutdown()


def test_a_body_as_large_as_the_largest_upload_gets_through_and_a_larger_is_refused(nginx: str) -> None:
    largest = max(gateway_upload_limits().values())
    through = requests.post(f"{nginx}/library/files?filename=a.pdf", data=b"x" * largest,
                            timeout=60)
    assert through.status_code == 200, through.text
    refused = requests.post(f"{nginx}/library/files?filename=a.pdf", data=b"x" * (body_limit() + 1),
                            timeout=60)
    assert refused.status_code == 413


def test_a_burst_of_sign_in_posts_is_cut_off_and_pages_are_not(nginx: str) -> None:
    def post(path: str) -> int:
        return requests.post(f"{nginx}{path}", json={"email": "a@example.org"},
                             timeout=10).status_code

    statuses = [post("/auth/sign-in-link") for _ in range(15)]
    assert statuses[:10] == [200] * 10  # the burst
    assert 429 in statuses[10:], statuses
    assert post("/sign-in") == 429  # the same client, by the web page's form
    assert requests.get(f"{nginx}/sign-in", timeout=10).status_code == 200
    assert post("/applications") == 200  # other requests are not counted
