"""HTTP security headers: Content-Security-Policy (django-csp), Permissions-Policy, HSTS and
the HTTPS redirect. The defaults suit `make run` on plain HTTP; production behind HTTPS
sets DJANGO_SECURE_SSL_REDIRECT, DJANGO_SECURE_HSTS_SECONDS and DJANGO_SECURE_COOKIES
(then `manage.py check --deploy` is clean)."""

from csp.constants import NONE, SELF

from config.env import env

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# Probes of a load balancer often come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# The players that lessons embed (privacy-friendly variants where they exist).
PARTA_VIDEO_EMBED_HOSTS = [
    "https://www.youtube-nocookie.com",
    "https://rutube.ru",
    "https://vk.com",
    "https://vkvideo.ru",
]
# Stripe's card form (Stripe.js and its frames) on the order page.
_STRIPE_SCRIPTS = ["https://js.stripe.com"]
_STRIPE_FRAMES = ["https://js.stripe.com", "https://hooks.stripe.com"]

# No inline scripts, handlers or style attributes anywhere: behaviour lives in
# parta/static/parta/parta.js, looks in parta.css. Files and videos may come from an
# S3-compatible server (presigned https URLs), hence https: for images and media.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, *_STRIPE_SCRIPTS],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", "https:"],
        "media-src": [SELF, "blob:", "https:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF, "https://api.stripe.com"],
        "frame-src": [SELF, *PARTA_VIDEO_EMBED_HOSTS, *_STRIPE_FRAMES],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, "https:"],
    }
}
if env.bool("PARTA_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None


def _allow(*origins: str) -> str:
    return "(" + " ".join(["self", *(f'"{origin}"' for origin in origins)]) + ")"


# Powerful features: none for anyone, except what the embedded players and the card
# form use.
PARTA_PERMISSIONS_POLICY = ", ".join(
    [
        "accelerometer=()",
        "camera=()",
        "geolocation=()",
        "gyroscope=()",
        "magnetometer=()",
        "microphone=()",
        "usb=()",
        "interest-cohort=()",
        f"payment={_allow(*_STRIPE_SCRIPTS)}",
        f"fullscreen={_allow(*PARTA_VIDEO_EMBED_HOSTS)}",
        f"autoplay={_allow(*PARTA_VIDEO_EMBED_HOSTS)}",
        f"encrypted-media={_allow(*PARTA_VIDEO_EMBED_HOSTS)}",
        f"picture-in-picture={_allow(*PARTA_VIDEO_EMBED_HOSTS)}",
    ]
)
