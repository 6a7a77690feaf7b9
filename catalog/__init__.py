"""What articles and studies share: publishing, tags, the listing index, tag pages (catalog.apps)."""
