"""`make bench`: generate each size, time the metrics recompute against the floor, report.

For each size on PostgreSQL: a fresh database (from a migrated template), the synthetic data
(`bench.generate`), VACUUM ANALYZE (what autovacuum would do after a bulk load), then,
alternately and `--repeat` times each:
- the recompute of every organization in a separate worker process
  (`manage.py compute_metrics`), timed by the command itself (the recompute, not Django's
  start-up) and by the wall clock; the process's peak RSS is its VmHWM (bench/worker.py);
- the floor (`bench/floor.sql`, one plain SELECT for every metric of every organization),
  run from this process through psycopg2, all rows fetched.
The engine's stored rows are then compared with the floor's figures, row by row. SQLite gets
the recompute figures at the smaller sizes (the floor is PostgreSQL's).

Medians of the repeats are reported (the machine is shared, timings are noisy). The table is
printed and written to bench/results.md with the per-statement breakdown of the engine.

    python -m bench.run [--sizes small,medium,large] [--sqlite-sizes small,medium] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
TEMPLATE_DB = "cdmo_bench_tpl"
SQLITE_DIR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results.md"
_SECRET = secrets.token_urlsafe(48)  # for the benchmark's own processes only
FLOOR_WORK_MEM = ""  # set in main(): the engine's own work_mem
DONE = re.compile(r"Done: (\d+) rows for (\d+) organization\(s\) in ([0-9.]+) s")


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        # DEBUG off, as a production worker runs (DEBUG keeps every query in memory).
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or _SECRET,
        METRICS_AUTO_RECOMPUTE="0",
    )
    env.pop("REDIS_URL", None)  # the recompute runs synchronously in the worker process
    return env


def _run(args: list[str], env: dict[str, str], timeout: float | None = None) -> str:
    out = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def _pg_admin(sql: str, db: str = "postgres") -> None:
    import psycopg2

    conn = psycopg2.connect(f"{PG}/{db}")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _fresh_pg(db: str) -> str:
    _pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {db} TEMPLATE {TEMPLATE_DB}")
    return f"{PG}/{db}"


def _pg_template() -> None:
    _pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {TEMPLATE_DB}")
    _run([PY, "manage.py", "migrate", "--noinput"], _env(f"{PG}/{TEMPLATE_DB}"))


def _sqlite_template() -> Path:
    SQLITE_DIR.mkdir(parents=True, exist_ok=True)
    path = SQLITE_DIR / "template.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    _run([PY, "manage.py", "migrate", "--noinput"], _env(f"sqlite:///{path}"))
    return path


def _fresh_sqlite(template: Path, size: str) -> str:
    path = SQLITE_DIR / f"{size}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def generate(database_url: str, size: str) -> dict:
    out = _run([PY, "-m", "bench.generate", "--size", size], _env(database_url))
    return json.loads(out)


def recompute(database_url: str, timeout: float) -> dict:
    """`compute_metrics` for every organization in its own process (bench/worker.py): the
    recompute time as the command reports it, the wall time, the rows written and the
    worker's peak resident set (VmHWM, which the worker prints last)."""
    log = SQLITE_DIR / "compute_metrics.log"
    SQLITE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [PY, "-m", "bench.worker"],
            cwd=ROOT,
            env=_env(database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = started + timeout
        while True:
            pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {"timeout": timeout, "wall": time.monotonic() - started}
            time.sleep(0.05)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"compute_metrics failed:\n{text}")
    m = DONE.search(text)
    if not m:
        raise RuntimeError(f"unexpected compute_metrics output:\n{text}")
    return {
        "rows": int(m.group(1)),
        "orgs": int(m.group(2)),
        "seconds": float(m.group(3)),
        "wall": wall,
        "rss_mb": int(re.search(r"VmHWM (\d+) kB", text).group(1)) / 1024,
    }


def floor(database_url: str, now: dt.datetime) -> dict:
    import psycopg2

    from bench.compare import floor_sql

    # JIT off for the floor's session: compiling this one big query costs ~3 s, which
    # dominates at the small sizes. work_mem: the engine's, for a like-for-like ratio.
    options = "-c jit=off"
    if FLOOR_WORK_MEM:
        options += f" -c work_mem={FLOOR_WORK_MEM}"
    conn = psycopg2.connect(database_url, options=options)
    try:
        with conn.cursor() as cur:
            started = time.monotonic()
            cur.execute(floor_sql(), {"now": now})
            rows = cur.fetchall()
            seconds = time.monotonic() - started
        conn.rollback()
    finally:
        conn.close()
    return {"seconds": seconds, "rows": len(rows)}


def cross_check(database_url: str) -> list[str]:
    """Differences between the engine's stored rows and the floor at the rows' own `now`."""
    import psycopg2

    from bench.compare import compare, engine_rows, floor_rows

    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT MIN(computed_at) FROM metrics_metricresult")
            now = cur.fetchone()[0]
            engine = engine_rows(cur)
            floor_ = floor_rows(cur, now)
        conn.rollback()
    finally:
        conn.close()
    return compare(engine, floor_)


def statement_times(database_url: str, timeout_s: float) -> dict[str, float]:
    """Seconds per engine statement, summed over organizations (a rolled-back recompute)."""
    out = _run([PY, "-m", "bench.statements"], _env(database_url), timeout=timeout_s)
    return json.loads(out)


def engine_work_mem() -> str:
    """The work_mem the engine sets for its recompute transaction ('' if it sets none)."""
    out = _run(
        [
            PY,
            "-c",
            "from bench.generate import setup_django; setup_django(); "
            "from django.conf import settings; "
            "print(getattr(settings, 'METRICS_PG_WORK_MEM', '') or '')",
        ],
        _env(f"{PG}/{TEMPLATE_DB}"),
    )
    return out.strip()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def bench_size(engine: str, size: str, url: str, repeat: int, timeout: float) -> dict:
    print(f"== {size} on {engine}: generating", flush=True)
    gen = generate(url, size)
    if engine == "postgresql":
        import psycopg2

        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.close()
    result = {
        "engine": engine,
        "size": size,
        "events": gen["events"],
        "orgs": len(gen["organizations"]),
        "projects": gen["tables"].get("journey_project", 0),
        "generate_s": gen["seconds"],
        "recompute": [],
        "floor": [],
    }
    for i in range(repeat):
        r = recompute(url, timeout)
        result["recompute"].append(r)
        print(f"   recompute {i + 1}/{repeat}: {r}", flush=True)
        if "timeout" in r:
            break
        if engine == "postgresql":
            f = floor(url, dt.datetime.now(dt.UTC))
            result["floor"].append(f)
            print(f"   floor {i + 1}/{repeat}: {f}", flush=True)
    if engine == "postgresql" and "timeout" not in result["recompute"][-1]:
        diffs = cross_check(url)
        result["diffs"] = len(diffs)
        result["diff_sample"] = diffs[:10]
        print(f"   floor vs engine: {len(diffs)} differences", flush=True)
    return result


def _fmt_row(r: dict) -> list[str]:
    done = [x for x in r["recompute"] if "timeout" not in x]
    if done:
        rec = _median([x["seconds"] for x in done])
        rec_s = f"{rec:.2f}"
        rss = f"{max(x['rss_mb'] for x in done):.0f}"
        rows = str(done[-1]["rows"])
    else:
        rec = None
        rec_s = f"> {r['recompute'][-1]['timeout']:.0f} (killed)"
        rss, rows = "-", "-"
    if r["floor"]:
        fl = _median([x["seconds"] for x in r["floor"]])
        fl_s = f"{fl:.2f}"
        ratio = (
            f"{rec / fl:.1f}x"
            if rec is not None
            else f"> {r['recompute'][-1]['timeout'] / fl:.0f}x"
        )
    else:
        fl_s, ratio = "-", "-"
    agree = "-" if "diffs" not in r else ("yes" if r["diffs"] == 0 else f"{r['diffs']} diffs")
    runs = f"{len(done)}" if done else "1"
    return [
        r["size"],
        r["engine"],
        f"{r['events']:,}",
        str(r["orgs"]),
        f"{r['generate_s']:.1f}",
        rec_s,
        runs,
        fl_s,
        ratio,
        rss,
        rows,
        agree,
    ]


HEADER = [
    "size",
    "database",
    "journal+event rows",
    "orgs",
    "generate s",
    "recompute s (median)",
    "runs",
    "floor s (median)",
    "recompute/floor",
    "worker peak RSS MB",
    "rows written",
    "floor = engine",
]


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_fmt_row(r)) + " |" for r in results]
    return "\n".join(lines)


def statements_table(per_size: dict[str, dict[str, float | None]]) -> str:
    sizes = list(per_size)
    names: list[str] = []
    for stats in per_size.values():
        names += [n for n in stats if n not in names]
    lines = ["| statement | " + " | ".join(sizes) + " |", "|---|" + "---|" * len(sizes)]
    for name in names:
        cells = []
        for s in sizes:
            v = per_size[s].get(name)
            cells.append("-" if v is None else f"{v:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Metrics recompute vs the floor")
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--sqlite-sizes", default="small,medium")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-repeat", type=int, default=None, help="repeats at large")
    parser.add_argument("--timeout", type=float, default=1800, help="per recompute, seconds")
    parser.add_argument("--statement-timeout", type=float, default=1800, help="seconds")
    parser.add_argument("--no-statements", action="store_true")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    sizes = [s for s in args.sizes.split(",") if s]
    sqlite_sizes = [s for s in args.sqlite_sizes.split(",") if s]
    results: list[dict] = []
    per_statement: dict[str, dict[str, float | None]] = {}
    started = time.monotonic()
    global FLOOR_WORK_MEM
    if sizes:
        _pg_template()
        FLOOR_WORK_MEM = engine_work_mem()
    for size in sizes:
        url = _fresh_pg(f"cdmo_bench_{size}")
        repeat = args.large_repeat if size == "large" and args.large_repeat else args.repeat
        results.append(bench_size("postgresql", size, url, repeat, args.timeout))
        if not args.no_statements:
            per_statement[f"{size} (pg)"] = statement_times(url, args.statement_timeout)
            print(f"   statements: {per_statement[f'{size} (pg)']}", flush=True)
    if sqlite_sizes:
        template = _sqlite_template()
        for size in sqlite_sizes:
            url = _fresh_sqlite(template, size)
            results.append(bench_size("sqlite", size, url, args.repeat, args.timeout))
            if not args.no_statements:
                per_statement[f"{size} (sqlite)"] = statement_times(url, args.statement_timeout)
                print(f"   statements: {per_statement[f'{size} (sqlite)']}", flush=True)

    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
        cur.execute("SHOW work_mem")
        work_mem = cur.fetchone()[0]
        cur.execute("SHOW shared_buffers")
        shared_buffers = cur.fetchone()[0]
    conn.close()
    text = report(
        results,
        per_statement,
        machine=f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL "
        f"{pg_version} (work_mem {work_mem}, shared_buffers {shared_buffers}), SQLite "
        f"{__import__('sqlite3').sqlite_version}",
        minutes=(time.monotonic() - started) / 60,
        repeat=args.repeat,
    )
    print(text)
    Path(args.output).write_text(text)
    (Path(args.output).with_suffix(".json")).write_text(
        json.dumps({"results": results, "statements": per_statement}, indent=1, default=str)
    )


def report(results, per_statement, *, machine: str, minutes: float, repeat: int) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Metrics benchmark (`make bench`)",
        "",
        f"Measured {when} on {machine}; the whole run took {minutes:.0f} min. Each figure is "
        f"the median of up to {repeat} runs (the machine is shared, so timings are noisy).",
        "",
        "- **recompute**: `manage.py compute_metrics` (every organization, each in its own "
        "transaction) in a separate worker process, as the command times it (Django start-up "
        "excluded); **worker peak RSS** is that process's VmHWM (its own high-water mark; "
        "ru_maxrss is not used: Linux carries it over from the forking parent).",
        "- **floor**: `bench/floor.sql`, one plain SELECT computing every metric for every "
        "organization, dimension and month, all rows fetched by the client; its session has "
        "`jit = off` (compiling the one big query costs ~3 s, the whole floor at small) and "
        f"the engine's work_mem ({FLOOR_WORK_MEM or 'server default'}).",
        "- **floor = engine**: the engine's stored rows compared with the floor's, row by row "
        "(key, dimension, value, period, n, numerator, denominator exactly, value to 1e-9).",
        "",
        table(results),
    ]
    if per_statement:
        parts += [
            "",
            "## Engine statements (seconds, summed over the organizations)",
            "",
            "The engine's own recompute of every organization, rolled back, with every SQL "
            "statement it sends timed (`bench/statements.py`); one run per size, so noisier "
            "than the table above.",
            "",
            statements_table(per_statement),
        ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
