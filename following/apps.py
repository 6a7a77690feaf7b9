from django.apps import AppConfig


class FollowingConfig(AppConfig):
    """Following a topic by email: a tag or intersection (with its filters)
    as a daily or weekly digest of what is newly published there. Double
    opt-in, one-click unsubscribe, no account; ``send_digests`` sends."""

    name = "following"
    verbose_name = "Following by email"
