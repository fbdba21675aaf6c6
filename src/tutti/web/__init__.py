"""The cooperative's web layer: server-rendered pages and a JSON API over ``tutti.coop``.

``tutti.web.app.create_app`` builds the FastAPI application; ``tutti coop serve`` runs it with uvicorn. Pages are
Jinja2 templates with htmx, all served from this package: no page loads anything from elsewhere.
"""
