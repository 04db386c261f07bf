"""django-allauth: students sign up with email, full name and phone, and log in by
one-time codes sent to their email; moderators log in with email and password."""

from config.env import env

ACCOUNT_ADAPTER = "parta.accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_LOGIN_METHODS = {"email"}
# No password field: students never have one.
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_SIGNUP_FORM_CLASS = "parta.accounts.forms.SignupExtraForm"
ACCOUNT_FORMS = {"login": "parta.accounts.login_forms.PasswordLoginForm"}
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT = env.int("PARTA_CODE_TIMEOUT", default=10 * 60)
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = env.int("PARTA_CODE_MAX_ATTEMPTS", default=3)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = env.int("PARTA_CODE_TIMEOUT", default=10 * 60)
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = env.int("PARTA_CODE_MAX_ATTEMPTS", default=3)
# The answer to "send me a code" is the same whether or not the email is registered.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Parta] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("PARTA_HTTP_PROTOCOL", default="http")
ACCOUNT_RATE_LIMITS = {
    # At most 3 codes per email and 20 per address a minute (allauth's defaults, kept
    # explicit so they are visible and testable).
    "request_login_code": env.str("PARTA_RATE_LOGIN_CODE", default="20/m/ip,3/m/key"),
    "signup": env.str("PARTA_RATE_SIGNUP", default="20/m/ip"),
    "login_failed": env.str("PARTA_RATE_LOGIN_FAILED", default="10/m/ip,5/300s/key"),
}
# Six digits are easy to type from a phone.
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
