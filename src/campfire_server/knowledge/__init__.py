"""Knowledge base: articles per organization, import, and the search index."""
