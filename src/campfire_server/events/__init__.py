"""The event log: every change a client or integrator can observe, in commit order."""
