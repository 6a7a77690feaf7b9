"""The follow pages: sign up (on a topic's page), check your inbox, confirm,
unsubscribe. None of them ever shows an email address, and none is cached:
each one is private (``never_cache``) and tells search engines to stay out.

Confirming and unsubscribing are buttons (POST), not bare links: mail
scanners open every link in a message, and must not confirm or end a
subscription by doing so. The unsubscribe address also takes the one-click
POST of RFC 8058 from mail clients, which carry no CSRF token: it is exempt,
and the unguessable token in the address is the proof.
"""

from django.conf import settings
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from catalog.selectors import resolve_tags

from . import signup
from .forms import SubscribeForm
from .mail import site_root
from .models import Frequency, Subscription
from .topics import Topic


def client_ip(request):
    """The client's address as django-axes and the API throttle see it (the
    X-Real-IP of the TLS proxy when behind one)."""
    return import_string(settings.AXES_CLIENT_IP_CALLABLE)(request) or ""


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request, slugs):
    """/tags/<slugs>/follow/?<filters>: the sign-up form for that page's topic."""
    tags, canonical = resolve_tags(slugs)
    if canonical is not None:
        url = reverse("tags:follow", kwargs={"slugs": canonical})
        query = request.META.get("QUERY_STRING")
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
    topic = Topic.from_query(tags, request.GET)
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            signup.sign_up(
                email=form.cleaned_data["email"],
                topic=topic,
                frequency=form.cleaned_data["frequency"],
                client_ip=client_ip(request),
                root=site_root(request),
            )
        except signup.TooManySignUps:
            return render(request, "following/too_many.html", {"topic": topic}, status=429)
        # The same page whatever happened (new, known, limited, failed).
        return redirect("following:sent")
    chosen = form.data.get("frequency") if form.is_bound else None
    return render(
        request,
        "following/subscribe.html",
        {
            "topic": topic,
            "form": form,
            "chosen": chosen if chosen in Frequency.values else Frequency.DAILY,
            "frequencies": Frequency.choices,
            "digest_hour": settings.FOLLOW_DIGEST_HOUR,
        },
        status=400 if form.is_bound else 200,
    )


@never_cache
def sent(request):
    return render(request, "following/sent.html")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token, frequency):
    """GET: what the link confirms, and a button; POST: confirm (idempotent)."""
    if frequency not in Frequency.values:
        raise Http404("No such frequency.")
    subscription = signup.subscription_to_confirm(token)
    if subscription is None:
        return render(request, "following/link_expired.html", status=404)
    if request.method == "POST":
        signup.confirm(subscription, frequency)
        return redirect(request.path)
    done = subscription.is_confirmed and subscription.frequency == frequency
    return render(
        request,
        "following/confirm.html",
        {
            "topic": Topic.load(subscription.slugs, subscription.filters),
            "subscription": subscription,
            "frequency": Frequency(frequency).label.lower(),
            "switching": subscription.is_confirmed and not done,
            "done": done,
            "first_digest": subscription.next_due_at if done else None,
        },
    )


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET: a button; POST (the button, or a mail client's one-click):
    unsubscribe at once. A used or unknown link POSTed again: done all the same."""
    subscription = Subscription.objects.filter(unsubscribe_token=token).first()
    topic = Topic.load(subscription.slugs, subscription.filters) if subscription else None
    if request.method == "POST":
        signup.unsubscribe(token)
        return render(request, "following/unsubscribed.html", {"topic": topic})
    if subscription is None:
        return render(request, "following/link_expired.html", status=404)
    return render(request, "following/unsubscribe.html", {"topic": topic, "subscription": subscription})
