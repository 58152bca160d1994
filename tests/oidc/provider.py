"""A real OpenID Provider (npm's oidc-provider under Node) for the company sign-in tests."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.live import ROOT, LiveProcess, free_port

SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
CLIENT_ID = "ponder-test"
CLIENT_SECRET = "ponder-test-secret"


@dataclass
class OpenIDProvider:
    issuer: str
    accounts_file: Path
    process: LiveProcess

    def set_account(self, login: str, **claims: Any) -> None:
        """Give ``login`` these claims from its next sign-in on (``sub`` is the login)."""
        accounts = json.loads(self.accounts_file.read_text())
        accounts[login] = claims
        self.accounts_file.write_text(json.dumps(accounts))

    def stop(self) -> None:
        self.process.stop()


def start_provider(site: str, work_dir: Path) -> OpenIDProvider:
    """Start the provider with one client whose redirect URI is ``<site>/oidc/callback/``."""
    node = shutil.which("node")
    assert node, "the company sign-in tests need Node (oidc-provider)"
    port = free_port()
    accounts_file = work_dir / "oidc-accounts.json"
    accounts_file.write_text("{}")
    env = {
        "PATH": "/usr/bin:/bin",
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": f"{site}/oidc/callback/",
        "OIDC_POST_LOGOUT_REDIRECT_URI": f"{site}/accounts/login/",
        "OIDC_ACCOUNTS": str(accounts_file),
    }
    process = LiveProcess("oidc-provider", [node, str(SCRIPT)], env)
    process.wait_for("listening", timeout=30)
    return OpenIDProvider(f"http://127.0.0.1:{port}", accounts_file, process)


def django_env(provider: OpenIDProvider, **extra: str) -> dict[str, str]:
    """The PONDER_OIDC_* variables pointing a Ponder stack at ``provider``."""
    return {
        "PONDER_OIDC_ISSUER": provider.issuer,
        "PONDER_OIDC_CLIENT_ID": CLIENT_ID,
        "PONDER_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PONDER_OIDC_NAME": "Example Corp",
        **extra,
    }
