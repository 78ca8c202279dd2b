"""ecorules over HTTP: `create_app` (the FastAPI app) and `serve` (run it under uvicorn)."""
from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
