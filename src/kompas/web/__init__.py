"""The local dashboard (``kompas serve``): FastAPI, Jinja2 templates, HTMX, SVG charts."""

from kompas.web.app import create_app
from kompas.web.security import Guard

__all__ = ["Guard", "create_app"]
