import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone_display(value: str) -> str:
    """+79991234567 -> "+7 999 123-45-67" for reading; stored numbers stay E.164."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
