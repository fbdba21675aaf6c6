"""The API's published contract names every answer it can give: each refusal is documented on the operations that
can give it, derived from what the operation depends on, so a new route is documented by being written.

``REFUSALS`` is the registry (status, when, to which operations it applies); ``document_refusals`` adds them to
every ``/api`` operation of the OpenAPI document as ``ErrorPublic`` answers (``{"detail": "<one sentence>"}``).
422 stays what FastAPI makes it: a body, query or path that does not match the schema (pydantic's details). A
well-formed request that a rule beyond the schema refuses (a password too weak, a proof between trees of
impossible sizes, a body that cannot be parsed) answers 400, so a schema-valid request is never answered 422.

``allowed_methods`` serves the ``Allow`` header of a 405: every method the path accepts over all its routes
(Starlette names only those of the first route that matched the path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from tutti.web import deps
from tutti.web.schemas import ErrorPublic

_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MEMBER_DEPENDENCIES: frozenset[Callable[..., Any]] = frozenset({deps.current_member, deps.current_auth})


@dataclass(frozen=True)
class Refusal:
    status: int
    description: str
    applies: Callable[[APIRoute, str], bool]


def _always(route: APIRoute, method: str) -> bool:
    return True


def _with_body(route: APIRoute, method: str) -> bool:
    return route.body_field is not None


def _needs_member(route: APIRoute, method: str) -> bool:
    return any(d.call in _MEMBER_DEPENDENCIES for d in _dependencies(route.dependant))


def _has_path_parameters(route: APIRoute, method: str) -> bool:
    return bool(route.dependant.path_params)


def _changes_things(route: APIRoute, method: str) -> bool:
    return method in _MUTATING


REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        400, "A rule beyond the schema refuses the request, or its body cannot be parsed (or nests too deep).", _always
    ),
    Refusal(401, "No valid login cookie or API token.", _needs_member),
    Refusal(403, "The member may not do this (role, status or a missing CSRF token).", _needs_member),
    Refusal(404, "Nothing with this id is visible to the caller.", _has_path_parameters),
    Refusal(409, "The request conflicts with the current state.", _changes_things),
    Refusal(413, "The body is larger than the server accepts.", _with_body),
    Refusal(429, "Too many attempts of this action: wait for the seconds in Retry-After.", _always),
)


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def api_routes() -> list[APIRoute]:
    """Every route of the cooperative's routers (they are included without a prefix, so paths are as served)."""
    from tutti.web.routes import ROUTERS  # the routes import the error handling, which imports this module

    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]


def _is_api(route: APIRoute) -> bool:
    return route.include_in_schema and (route.path == "/api" or route.path.startswith("/api/"))


def document_refusals(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app`` with every refusal of ``REFUSALS`` documented where it applies."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    problem = ErrorPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.setdefault("components", {}).setdefault("schemas", {})["ErrorPublic"] = problem
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}
    for route in api_routes():
        if not _is_api(route):
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            answers = operation.setdefault("responses", {})
            for refusal in REFUSALS:
                if refusal.applies(route, method):
                    answers.setdefault(str(refusal.status), {"description": refusal.description, "content": content})
    app.openapi_schema = schema
    return schema


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route accepts at the path of ``scope`` (for a 405's ``Allow``)."""
    methods: set[str] = set()
    for route in api_routes():
        if route.matches(scope)[0] in (Match.FULL, Match.PARTIAL):
            methods |= route.methods or set()
    return sorted(methods)
