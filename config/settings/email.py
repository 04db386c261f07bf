"""Email: console plus a folder (var/mail/) by default, SMTP in production."""

from config.env import VAR_DIR, env

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="parta.common.mail.ConsoleAndFolderBackend")
PARTA_MAIL_DIR = env.str("PARTA_MAIL_DIR", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Parta <no-reply@parta.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
