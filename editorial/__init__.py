"""The editorial workflow, roles, tag operations and the admin (editorial.apps)."""
