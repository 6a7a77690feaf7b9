from django.conf import settings


def site(request):
    """What every page's layout needs; no queries here."""
    return {"SITE_NAME": settings.SITE_NAME}
