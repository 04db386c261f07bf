"""Environment access for settings: every setting Parta reads comes through here."""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env file is optional; real environments set variables directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def local_secret_key() -> str:
    """Return a per-checkout secret key kept in var/, creating it on first use.

    The embedded default must run with no configuration, but a key baked into the
    code would be shared by every installation, so each checkout makes its own.
    """
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key
