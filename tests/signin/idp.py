"""Start the test identity provider (:mod:`tests.signin.provider`) on a free loopback port."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from jwcrypto import jwk

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.signin.provider.settings"
IDP_PASSWORD = "idp-password"  # people at the test provider


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class IdentityProvider:
    """A running provider: its issuer URL, and ``control()`` to change it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/o"
        self.token = secrets.token_urlsafe(16)
        key = workdir / "key.pem"
        key.write_bytes(jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(True, None))
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "IDP_SECRET_KEY": secrets.token_urlsafe(32),
            "IDP_DB": str(workdir / "idp.sqlite3"),
            "IDP_ISSUER": self.issuer,
            "IDP_KEY_FILE": str(key),
            "IDP_CONTROL_TOKEN": self.token,
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("DATABASE_URL", None)
        self.log = (workdir / "idp.log").open("wb")
        self.process: subprocess.Popen | None = None

    def start(self) -> "IdentityProvider":
        django = [sys.executable, "-m", "django"]
        subprocess.run(
            [*django, "migrate", "--no-input", "-v", "0"], env=self.env, cwd=ROOT, check=True
        )
        self.process = subprocess.Popen(
            [*django, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the test identity provider did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()

    def control(self, action: str, **data) -> dict:
        response = requests.post(
            f"{self.url}/control/",
            json={"action": action, **data},
            headers={"X-Control-Token": self.token},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def person(self, username: str, *, password: str = IDP_PASSWORD, **claims) -> None:
        self.control("person", username=username, password=password, **claims)

    def application(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.control(
            "application",
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=redirect_uris,
        )

    def requests_to(self, path: str) -> int:
        return self.control("requests").get(path, 0)

    def browser_session(self, username: str, password: str = IDP_PASSWORD) -> requests.Session:
        """A browser-like session signed in at the provider (its own log-in form)."""
        session = requests.Session()
        login = f"{self.url}/accounts/login/"
        session.get(login, timeout=10).raise_for_status()
        response = session.post(
            login,
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": session.cookies["idp_csrftoken"],
                "next": "/o/userinfo/",
            },
            headers={"Referer": login},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text
        return session
