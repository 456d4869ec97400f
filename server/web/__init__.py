"""FastAPI layer: app factory, routers per resource, schemas, one error mapping."""
