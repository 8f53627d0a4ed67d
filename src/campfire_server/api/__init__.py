"""HTTP transport: routers, dependencies, middleware and the error envelope."""
