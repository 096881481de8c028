"""Operation ids of the contract (``<tag>-<function>``, as clients/openapi.json has them).

Each router names its routes itself, because ``create_app`` lists the routes flat instead of
including the routers (see ``service.api.main._install_routes``), and a route's id and its
response model's title are fixed when the route is made.
"""

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name
