"""Articles: long-form explainers linking to studies (articles.apps)."""
