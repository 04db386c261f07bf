"""Phone numbers are validated with libphonenumber and stored in E.164 (+79991234567)."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str) -> str:
    """Return the number in E.164, or "" for an empty value; raise ValidationError
    for anything that is not a valid phone number."""
    value = (raw or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PARTA_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Enter a valid phone number, e.g. +7 999 123-45-67."), code="phone"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number, e.g. +7 999 123-45-67."), code="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_digits(query: str) -> list[str]:
    """Digit strings to look for in stored numbers (E.164) when someone searches by
    phone. A whole number in any format is normalised like sign-up does ("8 912 345-67-89"
    finds "+79123456789"); a part typed the national way has its trunk prefix swapped
    for the country code ("8912" finds "+7912..."). Fewer than three digits: none."""
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) < 3:
        return []
    found = [digits]
    try:
        whole = normalize_phone(query)
    except ValidationError:
        whole = ""
    if whole:
        found.append(whole.lstrip("+"))
    region = settings.PARTA_PHONE_REGION
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    prefix = metadata.national_prefix if metadata else None
    if prefix and digits.startswith(prefix) and not query.strip().startswith("+"):
        found.append(f"{phonenumbers.country_code_for_region(region)}{digits[len(prefix) :]}")
    return list(dict.fromkeys(found))
