"""Finding entries: full-text search, Atom feeds, sitemaps. They read
studies and articles; nothing reads them."""
