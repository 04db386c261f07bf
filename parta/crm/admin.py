from constance.admin import Config
from django.contrib import admin

# Live settings are changed at /crm/settings/ only, where every change is validated and
# audited; constance's own admin page would bypass both.
if admin.site.is_registered(Config):
    admin.site.unregister([Config])
