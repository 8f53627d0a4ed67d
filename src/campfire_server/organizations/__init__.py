"""Organizations (tenants) and their mailboxes."""
