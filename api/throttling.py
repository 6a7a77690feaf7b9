"""The API's rate limit: API_THROTTLE_RATE requests per client address,
counted in the site's cache."""

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.throttling import AnonRateThrottle


class ClientAddressThrottle(AnonRateThrottle):
    """AnonRateThrottle keyed on the address django-axes uses too (the
    X-Real-IP the TLS proxy sets, else the connection's), with the rate read
    at each request so that tests and settings changes apply at once."""

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_ident(self, request):
        return import_string(settings.AXES_CLIENT_IP_CALLABLE)(request) or "unknown"
