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
ACCOUNT_FORMS = {
    "login": "parta.accounts.login_forms.PasswordLoginForm",
    "request_login_code": "parta.accounts.login_forms.LimitedRequestLoginCodeForm",
    "reset_password": "parta.accounts.login_forms.StaffResetPasswordForm",
    "reset_password_from_key": "parta.accounts.login_forms.StaffResetPasswordKeyForm",
}
# "Send the code again" on the code page (twice per code request); each resend counts
# as a code request below.
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
# Likewise on the sign-up code page (allauth allows one a 10 seconds per address).
ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_RATE_LIMITS = {
    # Code requests and wrong passwords are limited by parta.accounts.signin_limits (the
    # PARTA_* settings below), which can say how long to wait and never lets a stranger
    # lock a teacher out; allauth's own counters for them are off.
    "request_login_code": "",
    "login_failed": "",
    "signup": env.str("PARTA_RATE_SIGNUP", default="20/m/ip"),
}


def _limit(name: str, default: str) -> tuple[int, int]:
    """ "5/900" from the environment: at most 5 events in any 900 seconds."""
    amount, seconds = env.str(name, default=default).split("/")
    return int(amount), int(seconds)


# Wrong passwords (the moderators' form and /admin/login/ share these counters).
# From one address for one email: 5 in 15 minutes, then that address waits.
PARTA_PASSWORD_FAILS_PER_EMAIL_AND_IP = _limit("PARTA_PASSWORD_FAILS_PER_EMAIL_AND_IP", "5/900")
# For one email from all addresses together: 50 a day, a ceiling against guessing spread
# over many addresses (the staff are told when it is reached).
PARTA_PASSWORD_FAILS_PER_EMAIL = _limit("PARTA_PASSWORD_FAILS_PER_EMAIL", "50/86400")
# From one address over all emails: 30 an hour.
PARTA_PASSWORD_FAILS_PER_IP = _limit("PARTA_PASSWORD_FAILS_PER_IP", "30/3600")

# One-time codes. Each code allows PARTA_CODE_MAX_ATTEMPTS wrong tries (above); over a
# day at most 30 wrong codes per email, then sign-in by code for it is locked for
# PARTA_CODE_LOCK_SECONDS and the staff are told by email.
PARTA_CODE_FAILS_PER_EMAIL = _limit("PARTA_CODE_FAILS_PER_EMAIL", "30/86400")
PARTA_CODE_LOCK_SECONDS = env.int("PARTA_CODE_LOCK_SECONDS", default=24 * 3600)
# Wrong codes from one address over all emails: 100 a day.
PARTA_CODE_FAILS_PER_IP = _limit("PARTA_CODE_FAILS_PER_IP", "100/86400")
# Code requests (a new code or "send again"): 3 a minute per email, 20 per address.
PARTA_CODE_REQUESTS_PER_EMAIL = _limit("PARTA_CODE_REQUESTS_PER_EMAIL", "3/60")
PARTA_CODE_REQUESTS_PER_IP = _limit("PARTA_CODE_REQUESTS_PER_IP", "20/60")
# Six digits are easy to type from a phone.
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
