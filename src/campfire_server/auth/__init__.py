"""Who is calling: API keys, tokens and the principal they resolve to."""
