"""Rate limits on the sign-up form, so it cannot be used to mail-bomb anyone.

Three limits, each for a different abuser:

- one address and topic: at most one confirmation mail per ``RESEND_AFTER``,
  whoever asks (``Subscription.confirmation_sent_at``, in the database: exact);
- one address, any topics: at most FOLLOW_MAILS_PER_ADDRESS_PER_DAY
  confirmation mails a day, from any number of clients (a botnet aiming at
  one inbox);
- one client: at most FOLLOW_SIGNUPS_PER_IP_PER_HOUR sign-ups an hour (one
  machine aiming at many inboxes). IPv6 clients are counted per /64, the
  block one subscriber line gets, so rotating addresses within it does not help.

The last two are counters in the cache (``django.core.cache``: Redis in
production, so every app server counts together), keyed by a keyed hash of
the address or network, never the address itself. The cache backend fails
soft: during an outage every read is a miss and ``incr`` fails as for a
missing key, so a count cannot be told from "unknown". Then:

- the per-address limit fails **closed**: no confirmation mail is sent while
  the cache cannot count (the visitor sees the same "check your inbox" page
  and may ask again later). Mail to an inbox that never asked is the harm
  this whole module exists to prevent, and it does not wait;
- the per-client limit fails **open**: refusing every sign-up during an
  outage would hurt everyone, and without the cache no mail goes out anyway.
"""

import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

HOUR = 3600
DAY = 24 * HOUR


def _key(kind, value):
    digest = salted_hmac("following.limits", f"{kind}:{value}").hexdigest()[:32]
    return f"following:limit:{kind}:{digest}"


def _count(key, window):
    """This hit's number in ``key``'s window, or None when the cache cannot count."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:
        return None


def client_network(ip):
    """The unit the per-client limit counts: the address, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_may_sign_up(ip):
    """Count one sign-up from ``ip``; False past the hourly limit (fails open)."""
    count = _count(_key("ip", client_network(ip)), HOUR)
    return count is None or count <= settings.FOLLOW_SIGNUPS_PER_IP_PER_HOUR


def address_may_receive(email):
    """Count one confirmation mail to ``email``; False past the daily limit
    or when the cache cannot count (fails closed)."""
    count = _count(_key("address", email.strip().lower()), DAY)
    return count is not None and count <= settings.FOLLOW_MAILS_PER_ADDRESS_PER_DAY
