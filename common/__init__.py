"""Helpers with no models and no knowledge of the apps: Markdown, paging,
full-text search, page-head metadata, dates as listings show them."""
