"""Addresses of admin pages, built one way for every model."""

from django.conf import settings
from django.urls import reverse


def admin_url(model, view="change", pk=None):
    """The admin's ``view`` page ("change", "history", "workflow", …) of one
    object: ``model`` is the instance, or its class with ``pk``."""
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[model.pk if pk is None else pk])


def absolute(path):
    """``path`` prefixed with SITE_URL, for links that leave the site (emails)."""
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}{path}"
