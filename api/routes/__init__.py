"""One router per resource; main.py mounts them all under /api/v1."""

from api.routes import (
    benchmarks,
    datasets,
    head_types,
    heads,
    health,
    index,
    matrix,
    mechanisms,
    methods,
    models,
    papers,
    reported_heads,
    runs,
    search,
    stages,
    verification_requests,
)

# Every router, in the order the OpenAPI document lists them.
ROUTERS = [
    index.router,
    health.router,
    stages.router,
    mechanisms.router,
    head_types.router,
    models.router,
    heads.router,
    papers.router,
    methods.router,
    benchmarks.router,
    datasets.router,
    runs.router,
    matrix.router,
    search.router,
    reported_heads.router,
    verification_requests.router,
]
