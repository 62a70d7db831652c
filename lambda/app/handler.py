"""The Lambda entry point: `app.handler.handler` (Mangum, lifespan off: the model loads at init)."""

from mangum import Mangum

from app.main import app

handler = Mangum(app, lifespan="off")
