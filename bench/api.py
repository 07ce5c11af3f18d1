"""The REST API against Datasette on the same SQLite file, against the raw SQL of each answer, and under load.

Three parts, each a table:

1. Throughput. For each query, wrk (loopback, one thread) drives `headatlas serve`
   and `datasette serve` in turn for a fixed time at a fixed number of
   connections; the ratio is the API's requests per second over Datasette's.
   Datasette answers the equivalent SQL (the same rows and joins, nested parts
   as JSON columns). It runs on the catalog as built (`make atlas`: the
   knowledge and every detector on SmolLM2), on a copy with synthetic models
   added until head_score holds 1,000,000 per-head scores, and on one with
   10,000,000 (the same number of models, ten times the heads each: a catalog
   of larger models, where an answer about a head type lists as many models).
2. The floor. The same SQL run by sqlite3 in this process (median of repeated
   runs), beside the API's median time for one request at a time: how much of
   an answer is the database and how much the server.
3. Load. 8, 32, 128 and 512 connections on every query, on SQLite and on
   PostgreSQL (the 1M catalog copied into the test server), counting 503s
   (busy, with Retry-After) apart from other errors and timeouts, with the p99
   and the time /health takes right after each run.

From the repository root, with wrk installed (`apt-get install wrk`) and
datasette in the project's .venv (`pip install 'datasette>=0.65,<0.66'`):

    .venv/bin/python -m bench.api                  # ~25 minutes, plus ~10 the first time (builds the catalogs)
    .venv/bin/python -m bench.api --duration 5 --queries search --skip 10M load
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Where the catalogs are built and kept between runs (git-ignored).
WORKDIR = Path("artifacts/bench-api")


# The synthetic catalogs: per-head scores in all, and the shape of each synthetic model (layers x heads, runs).
@dataclass(frozen=True)
class Shape:
    scores: int
    layers: int
    heads: int
    runs: int = 10


SHAPES = {"1M": Shape(1_000_000, 40, 25), "10M": Shape(10_000_000, 80, 125)}
# The model the "heads above a score" query reads in each catalog.
BUILT_MODEL, SYNTHETIC_MODEL = "smollm2-135m-instruct", "synthetic-050"
# Goals, printed as PASS or MISS: the API at least as fast as Datasette; a head type in full with p99 under
# 100 ms at 1M scores, and at 10M within twice its 1M time; no 500s or timeouts under load, /health within 1 s.
RATIO_GOAL, FULL_HEAD_TYPE_P99_MS, GROWTH_GOAL, HEALTH_GOAL_S = 1.0, 100.0, 2.0, 1.0
# Connections of the load runs, and of the runs comparing worker processes.
LOAD_LEVELS = (8, 32, 128, 512)
WORKERS_CONNECTIONS = 32
# The PostgreSQL server the load runs copy the 1M catalog into (a schema of its own, dropped first).
POSTGRES_URL = os.environ.get("HEADATLAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POSTGRES_SCHEMA = "bench_api"
# Counts each response status; wrk prints the counts when it is done (one thread, so its globals are the counts).
STATUS_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do io.write(string.format("status %d %d\\n", status, n)) end
  end
end
"""
# How long a server may take to answer its first request, in seconds.
STARTUP_SECONDS = 60


@dataclass(frozen=True)
class Query:
    name: str
    api: str  # path and query string under the API's origin; {model} is filled in per catalog
    sql: str  # Datasette's equivalent (SQLite), with :named parameters
    params: dict[str, str]
    pg_sql: str  # the same answer on PostgreSQL, with %(named)s parameters


QUERIES = [
    Query(
        "head types, filtered",
        "/api/v1/head-types?stage=ICI&limit=50",
        "select h.slug, h.name, s.code as stage, m.slug as mechanism, h.source, h.summary "
        "from head_type h join stage s on s.id = h.stage_id join mechanism m on m.id = h.mechanism_id "
        "where s.code = :stage order by s.position, m.position, h.position limit 50",
        {"stage": "ICI"},
        "select h.slug, h.name, s.code as stage, m.slug as mechanism, h.source, h.summary "
        "from head_type h join stage s on s.id = h.stage_id join mechanism m on m.id = h.mechanism_id "
        "where s.code = %(stage)s order by s.position, m.position, h.position limit 50",
    ),
    Query(
        "papers, filtered",
        "/api/v1/papers?year=2024&q=head&limit=50",
        "select key, title, year, venue, url, authors, arxiv_id from paper "
        "where year = :year and (lower(key) like '%' || :q || '%' or lower(title) like '%' || :q || '%' "
        "or lower(authors) like '%' || :q || '%') order by year desc, key limit 50",
        {"year": "2024", "q": "head"},
        "select key, title, year, venue, url, authors, arxiv_id from paper "
        "where year = %(year)s::int and (lower(key) like '%%' || %(q)s || '%%' or lower(title) like '%%' || %(q)s "
        "|| '%%' or lower(authors::text) like '%%' || %(q)s || '%%') order by year desc, key limit 50",
    ),
    Query(
        "a head type in full",
        "/api/v1/head-types/induction-head",
        "select h.slug, h.name, h.aliases, h.description, h.qk, h.ov, "
        "(select json_group_array(json_object('key', p.key, 'title', p.title, 'year', p.year)) "
        " from head_type_paper hp join paper p on p.id = hp.paper_id where hp.head_type_id = h.id) as papers, "
        "(select json_group_array(json_object('model', mo.slug, 'layer', hd.layer, 'head', hd.head, "
        "  'paper', p.key, 'location', r.location, 'evidence', r.evidence)) from reported_head r "
        " join head hd on hd.id = r.head_id join model mo on mo.id = hd.model_id "
        " join paper p on p.id = r.paper_id where r.head_type_id = h.id) as reported_heads, "
        "(select json_group_array(json_object('model', model, 'scored', scored, 'found', found, 'best', best)) "
        " from (select mo.slug as model, count(distinct v.head_id) as scored, "
        "  count(distinct case when v.shows_behaviour then v.head_id end) as found, max(v.score) as best "
        "  from verdict v join run r on r.id = v.run_id join model mo on mo.id = r.model_id "
        "  where v.head_type_id = h.id group by mo.slug)) as verification "
        "from head_type h where h.slug = :slug",
        {"slug": "induction-head"},
        "select h.slug, h.name, h.aliases, h.description, h.qk, h.ov, "
        "(select json_agg(json_build_object('key', p.key, 'title', p.title, 'year', p.year)) "
        " from head_type_paper hp join paper p on p.id = hp.paper_id where hp.head_type_id = h.id) as papers, "
        "(select json_agg(json_build_object('model', mo.slug, 'layer', hd.layer, 'head', hd.head, "
        "  'paper', p.key, 'location', r.location, 'evidence', r.evidence)) from reported_head r "
        " join head hd on hd.id = r.head_id join model mo on mo.id = hd.model_id "
        " join paper p on p.id = r.paper_id where r.head_type_id = h.id) as reported_heads, "
        "(select json_agg(json_build_object('model', model, 'scored', scored, 'found', found, 'best', best)) "
        " from (select mo.slug as model, count(distinct v.head_id) as scored, "
        "  count(distinct case when v.shows_behaviour then v.head_id end) as found, max(v.score) as best "
        "  from verdict v join run r on r.id = v.run_id join model mo on mo.id = r.model_id "
        "  where v.head_type_id = h.id group by mo.slug) per_model) as verification "
        "from head_type h where h.slug = %(slug)s",
    ),
    Query(
        "a model's heads above a score",
        "/api/v1/models/{model}/heads?min_score=0.5&sort=-score&limit=50",
        "select hd.layer, hd.head, r.detector, ht.slug as head_type, s.score, s.baseline, v.threshold, "
        "v.shows_behaviour from head_score s join run r on r.id = s.run_id join head hd on hd.id = s.head_id "
        "left join verdict v on v.run_id = s.run_id and v.head_id = s.head_id "
        "left join head_type ht on ht.id = v.head_type_id "
        "where r.model_id = (select id from model where slug = :model) and s.score >= :min_score "
        "order by s.score desc limit 50",
        {"model": "{model}", "min_score": "0.5"},
        "select hd.layer, hd.head, r.detector, ht.slug as head_type, s.score, s.baseline, v.threshold, "
        "v.shows_behaviour from head_score s join run r on r.id = s.run_id join head hd on hd.id = s.head_id "
        "left join verdict v on v.run_id = s.run_id and v.head_id = s.head_id "
        "left join head_type ht on ht.id = v.head_type_id "
        "where r.model_id = (select id from model where slug = %(model)s) and s.score >= %(min_score)s::float "
        "order by s.score desc limit 50",
    ),
    Query(
        "search",
        "/api/v1/search?q=induction+head&limit=20",
        "select d.kind, d.slug, d.title, -bm25(search_fts, 10.0, 5.0, 1.0) as relevance "
        "from search_fts join search_document d on d.id = search_fts.rowid "
        "where search_fts match :q order by bm25(search_fts, 10.0, 5.0, 1.0) limit 20",
        {"q": '"induction" "head"', "pg_q": "induction & head"},
        "select d.kind, d.slug, d.title, ts_rank_cd(document, q, 1) as relevance "
        "from search_document d, to_tsquery('english', %(pg_q)s) as q where document @@ q "
        "order by relevance desc limit 20",
    ),
]


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]  # answers by HTTP status
    timeouts: int  # requests wrk gave up on (10 s)

    @property
    def errors(self) -> int:
        """Answers that are neither a success nor a 503 (busy, with Retry-After), and timeouts."""
        return sum(n for status, n in self.statuses.items() if status >= 400 and status != 503) + self.timeouts


@dataclass(frozen=True)
class Measured:
    query: Query
    api: Load  # at --connections
    datasette: Load | None  # None on PostgreSQL
    alone_ms: float  # the API's median for one request at a time
    floor_ms: float  # the same SQL run in this process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="Seconds of throughput load per query and server.")
    parser.add_argument("--connections", type=int, default=8, help="Connections of the throughput runs.")
    parser.add_argument("--load-duration", type=int, default=10, help="Seconds of each load run.")
    parser.add_argument("--catalog", type=Path, help="A built catalog (SQLite) to use instead of building one.")
    parser.add_argument("--queries", nargs="*", help="Only queries whose name contains one of these words.")
    parser.add_argument("--skip", nargs="*", default=[], choices=["1M", "10M", "load", "postgresql", "workers"])
    args = parser.parse_args()
    wrk, datasette = _require("wrk"), _require("datasette", Path(sys.executable).parent / "datasette")
    queries = [q for q in QUERIES if not args.queries or any(word in q.name for word in args.queries)]
    WORKDIR.mkdir(parents=True, exist_ok=True)
    built = args.catalog or built_catalog(WORKDIR / "atlas.db")
    catalogs = {"built": (built, BUILT_MODEL)}
    for label, shape in SHAPES.items():
        if label not in args.skip:
            catalogs[label] = (synthetic_catalog(built, WORKDIR / f"synthetic-{label}.db", shape), SYNTHETIC_MODEL)
    print(f"wrk: 1 thread, loopback; {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}\n")
    measured: dict[str, list[Measured]] = {}
    for label, (path, model) in catalogs.items():
        counts = _counts(path)
        print(f"## SQLite, {label}: {path} ({counts['head_score']:,} head scores, {counts['model']} models)\n")
        with served_api(f"sqlite:///{path}") as api, served_datasette(path, datasette) as ds:
            measured[label] = [_measure(wrk, q, api, ds, model, args, _sqlite_floor(path, q, model)) for q in queries]
        _print_throughput(measured[label])
    _print_growth(measured)
    if "1M" in catalogs and "postgresql" not in args.skip:
        url = postgres_catalog(catalogs["1M"][0])
        print("## PostgreSQL, 1M: the same catalog in the test server (no Datasette: the floor is psycopg)\n")
        with served_api(url) as api:
            rows = [_measure(wrk, q, api, None, SYNTHETIC_MODEL, args, _postgres_floor(url, q)) for q in queries]
        _print_throughput(rows)
    if "load" not in args.skip:
        backends = [("SQLite", f"sqlite:///{catalogs.get('1M', catalogs['built'])[0]}")]
        if "1M" in catalogs and "postgresql" not in args.skip:
            backends.append(("PostgreSQL", postgres_catalog(catalogs["1M"][0], reuse=True)))
        model = SYNTHETIC_MODEL if "1M" in catalogs else BUILT_MODEL
        for backend, url in backends:
            print(f"## Load on {backend} ({args.load_duration} s per run, one worker)\n")
            with served_api(url) as api:
                _print_load(
                    [_load_run(wrk, api, q, model, n, args.load_duration) for n in LOAD_LEVELS for q in queries]
                )
    if "workers" not in args.skip:
        path, model = catalogs.get("1M", catalogs["built"])
        print(f"## Worker processes ({WORKERS_CONNECTIONS} connections, {args.load_duration} s per run, SQLite)\n")
        rows = []
        for workers in (1, 2):
            with served_api(f"sqlite:///{path}", workers) as api:
                rows += [
                    (workers, q, _wrk(wrk, api + q.api.format(model=model), args.load_duration, WORKERS_CONNECTIONS))
                    for q in queries
                ]
        _print_workers(rows)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def built_catalog(path: Path) -> Path:
    """The catalog as `make atlas` builds it: the knowledge, then every detector on SmolLM2 (~2 min once)."""
    if path.exists():
        return path
    url = f"sqlite:///{path}"
    print(f"Building {path}: headatlas ingest knowledge, headatlas verify --model smollm2 ...", flush=True)
    headatlas = [sys.executable, "-c", "from cli.main import main; main()", "--database-url", url]
    subprocess.run([*headatlas, "ingest", "knowledge"], check=True, stdout=subprocess.DEVNULL)
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    subprocess.run([*headatlas, "verify", "--model", "smollm2"], check=True, stdout=subprocess.DEVNULL, env=env)
    return path


def synthetic_catalog(built: Path, path: Path, shape: Shape) -> Path:
    """A copy of `built` with synthetic models whose runs bring head_score to `shape.scores` rows.

    Each synthetic model has shape.layers x shape.heads heads and shape.runs
    runs, one per detector of the built catalog's runs (same head types and
    thresholds); scores are seeded random numbers skewed towards 0, so that few
    heads pass. The stored summaries are then computed as a run writer would.
    """
    if path.exists() and _counts(path)["head_score"] >= shape.scores:
        return path
    from sqlmodel import Session

    from catalog.db import make_engine, upgrade
    from catalog.matrix import refresh_verification_summaries

    shutil.copyfile(built, path)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)  # the schema the summaries need
    db = sqlite3.connect(path)
    detectors = db.execute(
        "select r.detector, r.detector_version, r.method_id, min(v.head_type_id), min(v.threshold) "
        "from run r join verdict v on v.run_id = r.id group by r.id order by r.detector"
    ).fetchall()[: shape.runs]
    if len(detectors) < shape.runs:
        raise SystemExit(f"{built} has {len(detectors)} runs with verdicts; {shape.runs} are needed (run `make atlas`)")
    per_model = shape.layers * shape.heads
    existing = db.execute("select count(*) from head_score").fetchone()[0]
    n_models = -(-(shape.scores - existing) // (per_model * shape.runs))
    print(f"Building {path}: {n_models} synthetic models of {shape.layers}x{shape.heads} heads ...", flush=True)
    rng = random.Random(0)
    started = time.perf_counter()
    with db:
        for i in range(n_models):
            _add_synthetic_model(db, rng, i, shape, detectors)
    db.close()
    with Session(engine) as session:
        refresh_verification_summaries(session)
        session.commit()
    engine.dispose()
    print(f"  done in {time.perf_counter() - started:.0f} s: {_counts(path)['head_score']:,} head scores", flush=True)
    return path


def _add_synthetic_model(db: sqlite3.Connection, rng: random.Random, i: int, shape: Shape, detectors: list) -> None:  # type: ignore[type-arg]
    model_id = db.execute(
        "insert into model (slug, name, family, kind, n_layers, n_heads, n_kv_heads, positional) "
        "values (?, ?, 'llama', 'pretrained', ?, ?, ?, 'rotary')",
        (f"synthetic-{i:03d}", f"Synthetic {i}", shape.layers, shape.heads, shape.heads),
    ).lastrowid
    first = db.execute("select coalesce(max(id), 0) + 1 from head").fetchone()[0]
    n_heads = shape.layers * shape.heads
    db.executemany(
        "insert into head (id, model_id, layer, head) values (?, ?, ?, ?)",
        [(first + n, model_id, n // shape.heads, n % shape.heads) for n in range(n_heads)],
    )
    for detector, version, method_id, head_type_id, threshold in detectors:
        run_id = db.execute(
            "insert into run (model_id, detector, detector_version, method_id, head_type_id, params, seed, "
            "code_version, status, started_at, finished_at, timings) values (?, ?, ?, ?, ?, '{}', 0, 'synthetic', "
            "'complete', '2026-11-24 00:00:00', '2026-11-24 00:00:01', '{}')",
            (model_id, detector, version, method_id, head_type_id),
        ).lastrowid
        scores = [(first + n, rng.random() ** 4) for n in range(n_heads)]
        db.executemany(
            "insert into head_score (run_id, head_id, score, baseline) values (?, ?, ?, 0.01)",
            [(run_id, head_id, score) for head_id, score in scores],
        )
        db.executemany(
            "insert into verdict (run_id, head_id, head_type_id, score, threshold, shows_behaviour) "
            "values (?, ?, ?, ?, ?, ?)",
            [(run_id, h, head_type_id, s, threshold, s >= threshold) for h, s in scores],
        )


def postgres_catalog(sqlite_path: Path, *, reuse: bool = False) -> str:
    """The SQLite catalog copied row by row into a fresh schema of the PostgreSQL test server; its URL."""
    import psycopg
    from sqlalchemy import create_engine, text
    from sqlmodel import SQLModel

    from catalog.db import make_engine, upgrade

    url = f"{POSTGRES_URL}?options=-csearch_path%3D{POSTGRES_SCHEMA}"
    if reuse:
        return url
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {POSTGRES_SCHEMA}"))
    admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    print(f"Copying {sqlite_path} into PostgreSQL (schema {POSTGRES_SCHEMA}) ...", flush=True)
    source = sqlite3.connect(sqlite_path)
    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, options=f"-csearch_path={POSTGRES_SCHEMA}") as target:
        target.execute("TRUNCATE " + ", ".join(t.name for t in SQLModel.metadata.sorted_tables) + " CASCADE")
        for table in SQLModel.metadata.sorted_tables:
            _copy_table(source, target, table)
        target.execute("SELECT 1")
    source.close()
    return url


def _copy_table(source: sqlite3.Connection, target, table) -> None:  # type: ignore[no-untyped-def]
    """One table by COPY, booleans as PostgreSQL's; then its id sequence past the copied ids."""
    columns = [column.name for column in table.columns]
    booleans = {i for i, column in enumerate(table.columns) if column.type.python_type is bool}
    rows = source.execute(f"select {', '.join(columns)} from {table.name}")
    with target.cursor().copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([bool(v) if i in booleans and v is not None else v for i, v in enumerate(row)])
    if "id" in columns and len(table.primary_key.columns) == 1:
        target.execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), coalesce(max(id), 1)) FROM {table.name}"
        )


@contextmanager
def served_api(database_url: str, workers: int = 1) -> Iterator[str]:
    """`headatlas serve` on the catalog at `database_url`, on a free loopback port."""
    port = _free_port()
    command = [sys.executable, "-c", "from cli.main import main; main()", "--database-url", database_url]
    command += ["serve", "--port", str(port), "--site-dir", str(WORKDIR / "no-site"), "--no-access-log"]
    command += ["--workers", str(workers)]
    with _process(command, f"http://127.0.0.1:{port}", "/api/v1/health") as url:
        yield url


@contextmanager
def served_datasette(path: Path, datasette: str) -> Iterator[str]:
    port = _free_port()
    command = [datasette, "serve", str(path), "-h", "127.0.0.1", "-p", str(port)]
    with _process(
        [*command, "--setting", "sql_time_limit_ms", "60000"], f"http://127.0.0.1:{port}", "/-/versions.json"
    ) as url:
        yield url


@contextmanager
def _process(command: list[str], url: str, ready: str) -> Iterator[str]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(url + ready)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _measure(
    wrk: str, query: Query, api: str, ds: str | None, model: str, args: argparse.Namespace, floor_ms: float
) -> Measured:
    api_url = api + query.api.format(model=model)
    print(f"  {query.name}: API {_rows(api_url)} entries", flush=True)
    ds_load = None
    if ds is not None:
        params = {k: v.format(model=model) for k, v in query.params.items() if k != "pg_q"}
        ds_url = f"{ds}/{_database_name(ds)}.json?" + urllib.parse.urlencode(
            {"sql": query.sql, "_shape": "array", **params}
        )
        ds_load = _warm_load(wrk, ds_url, args.duration, args.connections)
    api_load = _warm_load(wrk, api_url, args.duration, args.connections)
    alone = _wrk(wrk, api_url, max(2, args.duration // 2), 1)
    return Measured(query, api_load, ds_load, alone.p50_ms, floor_ms)


def _sqlite_floor(path: Path, query: Query, model: str) -> float:
    db = sqlite3.connect(path)
    params = {k: v.format(model=model) for k, v in query.params.items() if k != "pg_q"}
    floor = _median_ms(lambda: db.execute(query.sql, params).fetchall())
    db.close()
    return floor


def _postgres_floor(url: str, query: Query) -> float:
    import psycopg

    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    params = {k: v.format(model=SYNTHETIC_MODEL) for k, v in query.params.items()}
    with psycopg.connect(dsn, options=f"-csearch_path={POSTGRES_SCHEMA}") as connection:
        return _median_ms(lambda: connection.execute(query.pg_sql, params).fetchall())


def _median_ms(call, repeats: int = 21) -> float:  # type: ignore[no-untyped-def]
    call()  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[repeats // 2]


def _warm_load(wrk: str, url: str, seconds: int, connections: int) -> Load:
    """One short warm-up, then the measured run."""
    _wrk(wrk, url, 1, connections)
    return _wrk(wrk, url, seconds, connections)


def _load_run(
    wrk: str, api: str, query: Query, model: str, connections: int, seconds: int
) -> tuple[Query, int, Load, float]:
    """A load run at `connections`, and how long /health takes to answer right after it."""
    load = _wrk(wrk, api + query.api.format(model=model), seconds, connections)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(api + "/api/v1/health", timeout=30):
            pass
        health = time.perf_counter() - started
    except OSError:
        health = float("inf")
    print(f"  {connections} connections, {query.name}: {load.rps:,.0f} rps, health {health:.3f} s", flush=True)
    return query, connections, load, health


def _wrk(wrk: str, url: str, seconds: int, connections: int) -> Load:
    script = WORKDIR / "statuses.lua"
    script.write_text(STATUS_SCRIPT)
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    timeouts = re.search(r"Socket errors:.*?timeout (\d+)", out)
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        statuses={int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", out, re.MULTILINE)},
        timeouts=int(timeouts.group(1)) if timeouts else 0,
    )


def _print_throughput(rows: list[Measured]) -> None:
    print()
    print(
        "| query | API rps | API p50 / p99 ms | Datasette rps | Datasette p50 / p99 ms | ratio | "
        f"≥ {RATIO_GOAL:g}× | one at a time: API ms | SQL alone ms | API / SQL |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for row in rows:
        api, ds = row.api, row.datasette
        errors = f" ({api.errors} errors)" if api.errors else ""
        ds_cells = "— | — | — | —"
        if ds is not None:
            ratio = api.rps / ds.rps if ds.rps else float("inf")
            verdict = "PASS" if ratio >= RATIO_GOAL and not api.errors else "MISS"
            ds_cells = f"{ds.rps:,.0f} | {ds.p50_ms:.1f} / {ds.p99_ms:.1f} | {ratio:.2f}× | {verdict}"
        print(
            f"| {row.query.name} | {api.rps:,.0f}{errors} | {api.p50_ms:.1f} / {api.p99_ms:.1f} | {ds_cells} "
            f"| {row.alone_ms:.2f} | {row.floor_ms:.2f} | {row.alone_ms / max(row.floor_ms, 1e-3):.1f}× |"
        )
    print()


def _print_growth(measured: dict[str, list[Measured]]) -> None:
    """A head type in full: p99 under load at 1M scores, and the one-at-a-time time at 10M against 1M."""
    full = {
        label: next((r for r in rows if r.query.name == "a head type in full"), None)
        for label, rows in measured.items()
    }
    if full.get("1M"):
        p99 = full["1M"].api.p99_ms  # type: ignore[union-attr]
        verdict = "PASS" if p99 < FULL_HEAD_TYPE_P99_MS else "MISS"
        goal = f"goal < {FULL_HEAD_TYPE_P99_MS:g}"
        print(f"a head type in full at 1M scores: p99 {p99:.1f} ms under load ({goal}): {verdict}")
    if full.get("1M") and full.get("10M"):
        growth = full["10M"].alone_ms / full["1M"].alone_ms  # type: ignore[union-attr]
        verdict = "PASS" if growth <= GROWTH_GOAL else "MISS"
        print(f"a head type in full, 10M against 1M scores: {growth:.2f}× (goal ≤ {GROWTH_GOAL:g}×): {verdict}")
    print()


def _print_workers(rows: list[tuple[int, Query, Load]]) -> None:
    print()
    print("| query | workers | rps | p50 ms | p99 ms | ratio to 1 worker |")
    print("|---|---:|---:|---:|---:|---:|")
    single = {q.name: load.rps for workers, q, load in rows if workers == 1}
    for workers, query, load in rows:
        print(
            f"| {query.name} | {workers} | {load.rps:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} "
            f"| {load.rps / single[query.name]:.2f}× |"
        )
    print()


def _print_load(rows: list[tuple[Query, int, Load, float]]) -> None:
    print()
    print(
        "| connections | query | rps | p99 ms | 200 | 503 (busy) | other errors + timeouts | /health after s | goal |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for query, connections, load, health in rows:
        verdict = "PASS" if not load.errors and health <= HEALTH_GOAL_S else "MISS"
        print(
            f"| {connections} | {query.name} | {load.rps:,.0f} | {load.p99_ms:.1f} | {load.statuses.get(200, 0):,} "
            f"| {load.statuses.get(503, 0):,} | {load.errors:,} | {health:.3f} | {verdict} |"
        )
    print()


def _ms(text: str) -> float:
    """wrk's durations (850.00us, 1.20ms, 2.01s) in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _rows(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:
        body = json.loads(response.read())
    return (
        len(body["data"]) if isinstance(body, dict) and "data" in body else len(body) if isinstance(body, list) else 1
    )


def _database_name(ds: str) -> str:
    with urllib.request.urlopen(ds + "/-/databases.json", timeout=10) as response:
        return str(json.loads(response.read())[0]["name"])


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in ("head_score", "model")}


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _require(name: str, fallback: Path | None = None) -> str:
    found = shutil.which(name) or (str(fallback) if fallback and fallback.exists() else None)
    if found is None:
        hint = "apt-get install wrk" if name == "wrk" else ".venv/bin/pip install 'datasette>=0.65,<0.66'"
        raise SystemExit(f"{name} is not installed: {hint}")
    return found


if __name__ == "__main__":
    main()
