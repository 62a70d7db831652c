"""The serving function: the FastAPI app (lesion_api.main.create_app) behind Mangum
(lesion_api.handler.handler), and the S3 batch function (lesion_api.batch.handler)."""
