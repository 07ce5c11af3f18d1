"""Where the API lives: its one prefix, and the address of each kind of entry, for the API, its answers and the site."""

# The version is part of every path.
API_PREFIX = "/api/v1"
DOCS_PATH = f"{API_PREFIX}/docs"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
PROBLEMS_PATH = f"{API_PREFIX}/problems"

# Where one entry of each kind (a search kind, or a dataset) is served.
ENTRY_PATHS = {
    "head_type": f"{API_PREFIX}/head-types/{{slug}}",
    "paper": f"{API_PREFIX}/papers/{{slug}}",
    "stage": f"{API_PREFIX}/stages/{{slug}}",
    "mechanism": f"{API_PREFIX}/mechanisms/{{slug}}",
    "method": f"{API_PREFIX}/methods/{{slug}}",
    "benchmark": f"{API_PREFIX}/benchmarks/{{slug}}",
    "dataset": f"{API_PREFIX}/datasets/{{slug}}",
    "model": f"{API_PREFIX}/models/{{slug}}",
}


def entry_path(kind: str, slug: str) -> str:
    return ENTRY_PATHS[kind].format(slug=slug)


def head_path(model: str, layer: int, head: int) -> str:
    return f"{entry_path('model', model)}/heads/{layer}/{head}"


def verification_request_path(request_id: int) -> str:
    return f"{API_PREFIX}/verification-requests/{request_id}"
