"""API resources; each method builds one ``Operation`` and hands it to the client."""
