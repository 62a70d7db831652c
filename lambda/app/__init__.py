"""The serving function: FastAPI app (app.main:app) behind Mangum (app.handler.handler)."""
