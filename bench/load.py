"""Load test: 32 users for 60 s against gunicorn on PostgreSQL, then the journal check.
Writes bench/load.md; exits non-zero if any request failed or the journal check fails.

    .venv/bin/python -m bench.load [--users 32] [--seconds 60] [--pg URL] [--rebuild]

The data: the medium size of `bench.generate` (its biggest organization, "mid-size": 727
clients and 2,866 projects), generated once into `cdmo_bench_load_tpl` (`bench.scale`'s
`prepare`), copied to `cdmo_bench_load` for every run (moves change it) and migrated; then
the bench accounts get a known password, an admin issues a write API key, and the daily
rules, health snapshot and metrics run as in production. The plan (`var/bench/load/plan.json`)
gives each locust user slot its account and its own projects to move.

The server: gunicorn as the Dockerfile runs it (3 sync workers) on 127.0.0.1 only, DEBUG
off, a real secret key, the production defaults except the two HTTPS switches plain-HTTP
localhost needs (`DJANGO_SECURE_SSL_REDIRECT=0`, `DJANGO_SECURE_COOKIES=0`), e-mail to
memory (locmem), and Redis (`BENCH_LOAD_REDIS`, default redis://127.0.0.1:6379/7) with a
Celery worker, as deployed. The users (bench/locustfile.py): executives, account managers
and project managers in the browser (login form, pages with their htmx panels, filtered and
paginated lists, the project page's move form) and an integration on the API.

The journal check: every move the server accepted is in its project's journal exactly once
(found by the move's unique note), no other entry appeared, refused moves wrote nothing,
the journal's seq runs 1..n, and the project's phase, status and journal_seq are its last
entry's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import secrets
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from bench import scale

ROOT = Path(__file__).resolve().parent.parent
DB = "cdmo_bench_load"
TEMPLATE = "cdmo_bench_load_tpl"
SIZE = "medium"
REDIS = os.environ.get("BENCH_LOAD_REDIS", "redis://127.0.0.1:6379/7")
WORK = ROOT / "var" / "bench" / "load"
# The bench accounts' password (a local benchmark database, never a real one).
PASSWORD = "bench-load-not-a-secret"  # noqa: S105
SLOTS = 64  # per user kind: more than any run starts
# The Dockerfile's server: sync workers (one request at a time, no keep-alive). With gthread
# workers an idle keep-alive connection reused as gunicorn closes it is reset (a known race,
# benoitc/gunicorn#1698): browsers retry such a request, locust counts a failure.
WORKERS = 3
NOTE_PREFIX = "load "
LOGIN_ALLOWANCE = 300  # seconds the users may take to log in before the window starts


# --- the journal check (pure: the test feeds it a fixture) ----------------------------------
def journal_check(
    moves: list[dict],
    baseline: dict[int, int],
    journal: dict[int, list[dict]],
    projects: dict[int, dict],
    elsewhere: list[dict] = (),
) -> dict:
    """Compare the moves the load test recorded with the journal afterwards.

    moves: every move the users tried, in order: project, from, to, token, outcome
    (`accepted`, `refused`, `not offered`, `failed`). baseline: each pooled project's
    journal_seq before the run. journal: the whole journal of each touched project (dicts
    with seq, from_phase, to_phase, to_status, note), and projects: their phase, status,
    journal_seq now. elsewhere: entries with a load test note in projects no move touched.
    Returns the counts and the problems found (`ok` when there are none).
    """
    problems: list[str] = []
    lost: list[str] = []
    duplicated: list[str] = []
    unexpected: list[str] = [
        f"project {e['project_id']}: entry seq {e['seq']} ({e['note']}) but no move tried it"
        for e in elsewhere
    ]
    by_project: dict[int, list[dict]] = defaultdict(list)
    for move in moves:
        by_project[int(move["project"])].append(move)
    accepted = 0
    for pid, tried in sorted(by_project.items()):
        entries = sorted(journal.get(pid, []), key=lambda e: e["seq"])
        seqs = [e["seq"] for e in entries]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"project {pid}: journal seq is {seqs}, not 1..{len(seqs)}")
        new = [e for e in entries if e["seq"] > baseline.get(pid, 0)]
        tokens = Counter(
            e["note"][len(NOTE_PREFIX) :] for e in new if e["note"].startswith(NOTE_PREFIX)
        )
        known = {m["token"] for m in tried if m.get("token")}
        for e in new:
            token = e["note"][len(NOTE_PREFIX) :] if e["note"].startswith(NOTE_PREFIX) else None
            if token not in known:
                unexpected.append(f"project {pid}: entry seq {e['seq']} matches no move")
        order = []
        for move in tried:
            n = tokens.get(move.get("token"), 0)
            what = f"project {pid}: {move['from']} -> {move['to']} ({move['outcome']})"
            if move["outcome"] == "accepted":
                accepted += 1
                if n == 0:
                    lost.append(what)
                elif n > 1:
                    duplicated.append(f"{what} written {n} times")
                else:
                    entry = next(e for e in new if e["note"] == NOTE_PREFIX + move["token"])
                    target = (entry["to_phase"], entry["to_status"])
                    wanted = (
                        ("close_out", "completed")
                        if move["to"] == "completed"
                        else (move["to"], "active")
                    )
                    if target != wanted or entry["from_phase"] != move["from"]:
                        problems.append(f"{what}: written as {entry['from_phase']} -> {target}")
                    order.append(entry["seq"])
            elif move["outcome"] == "failed":
                if n > 1:  # an unanswered move may or may not have been written, once at most
                    duplicated.append(f"{what} written {n} times")
            elif n:
                unexpected.append(f"{what} but written {n} time(s)")
        if order != sorted(order):
            problems.append(f"project {pid}: accepted moves journaled out of order {order}")
        state = projects.get(pid)
        if state is None:
            problems.append(f"project {pid}: missing")
        elif entries:
            last = entries[-1]
            if (state["phase"], state["status"], state["journal_seq"]) != (
                last["to_phase"],
                last["to_status"],
                last["seq"],
            ):
                problems.append(
                    f"project {pid}: is {state['phase']}/{state['status']} seq "
                    f"{state['journal_seq']} but its last entry is {last['to_phase']}/"
                    f"{last['to_status']} seq {last['seq']}"
                )
    found = accepted - len(lost)
    return {
        "projects": len(by_project),
        "accepted": accepted,
        "journaled": found,
        "refused": sum(m["outcome"] in ("refused", "not offered") for m in moves),
        "failed": sum(m["outcome"] == "failed" for m in moves),
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "problems": problems,
        "ok": not (lost or duplicated or unexpected or problems),
    }


# --- children (Django configured for the bench database) ------------------------------------
def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare_child(plan_path: str) -> None:
    """The bench accounts' password, an API key, the daily jobs, and the plan."""
    _django()
    import random

    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import ApiKey, Membership, Organization, User
    from accounts.permissions import Actor
    from accounts.services import api_key_create
    from engagement.models import Playbook
    from engagement.services.alerts import alerts_run_rules
    from engagement.services.health import health_snapshot_take
    from engagement.services.playbooks import playbooks_ensure
    from journey.models import Client, Project
    from metrics.recompute import metrics_recompute

    org = max(Organization.objects.all(), key=lambda o: Client.objects.for_organization(o).count())
    members = list(
        Membership.objects.filter(organization=org).select_related("user").order_by("id")
    )
    User.objects.filter(pk__in=[m.user_id for m in members]).update(
        password=make_password(PASSWORD)
    )
    by_role: dict[str, list[str]] = defaultdict(list)
    ids = {}
    for m in members:
        by_role[m.role].append(m.user.email)
        ids[m.user_id] = m.user.email
    admin = next(m for m in members if m.role == "admin")
    ApiKey.objects.for_organization(org).delete()
    _, raw_key = api_key_create(actor=Actor.from_membership(admin), name="load test", scope="write")
    if not Playbook.objects.for_organization(org).exists():
        playbooks_ensure(organization=org)
    alerts_run_rules(organization=org)
    health_snapshot_take(organization=org)
    metrics_recompute(organization=org)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    movable = list(
        Project.objects.for_organization(org)
        .filter(status="active")
        .order_by("id")
        .values("id", "phase", "project_manager_id", "journal_seq")
    )
    am_pool, api_pool, pm_pools = [], [], defaultdict(list)
    for i, p in enumerate(movable):
        if i % 3 == 1:
            api_pool.append(p)
        elif i % 3 == 2 and p["project_manager_id"] in ids:
            pm_pools[ids[p["project_manager_id"]]].append(p)
        else:
            am_pool.append(p)

    def pool(rows) -> dict:
        return {str(p["id"]): p["phase"] for p in rows}

    pms = [e for e in by_role["project_manager"] if pm_pools[e]]
    parts = math.ceil(SLOTS / len(pms))
    ams = by_role["account_manager"]
    rng = random.Random(20260630)
    clients = list(Client.objects.for_organization(org).values_list("id", flat=True))
    projects = list(Project.objects.for_organization(org).values_list("id", flat=True))
    plan = {
        "organization": org.slug,
        "password": PASSWORD,
        "api_key": raw_key,
        "clients": rng.sample(clients, min(300, len(clients))),
        "projects": rng.sample(projects, min(300, len(projects))),
        "executive": [{"email": by_role["executive"][0]} for _ in range(SLOTS)],
        "account_manager": [
            {"email": ams[i % len(ams)], "pool": pool(am_pool[i::SLOTS])} for i in range(SLOTS)
        ],
        "project_manager": [
            {
                "email": pms[i % len(pms)],
                "pool": pool(pm_pools[pms[i % len(pms)]][i // len(pms) :: parts]),
            }
            for i in range(SLOTS)
        ],
        "api": [{"pool": pool(api_pool[i::SLOTS])} for i in range(SLOTS)],
        "baseline": {str(p["id"]): p["journal_seq"] for p in movable},
        "size": {
            "clients": len(clients),
            "projects": len(projects),
            "active projects": len(movable),
            "members": len(members),
        },
    }
    Path(plan_path).write_text(json.dumps(plan))


def journal_child(plan_path: str, moves_path: str, out_path: str) -> None:
    """The journal and state of every project a move touched, as JSON for the check."""
    _django()
    from accounts.models import Organization
    from journey.models import PhaseTransition, Project

    plan = json.loads(Path(plan_path).read_text())
    org = Organization.objects.get(slug=plan["organization"])
    moves = read_moves(Path(moves_path))
    touched = sorted({int(m["project"]) for m in moves})
    journal: dict[int, list[dict]] = defaultdict(list)
    for e in (
        PhaseTransition.objects.for_organization(org)
        .filter(project_id__in=touched)
        .order_by("project_id", "seq")
        .values("project_id", "id", "seq", "kind", "from_phase", "to_phase", "to_status", "note")
    ):
        journal[e.pop("project_id")].append(e)
    projects = {
        p["id"]: p
        for p in Project.objects.for_organization(org)
        .filter(id__in=touched)
        .values("id", "phase", "status", "journal_seq")
    }
    elsewhere = list(
        PhaseTransition.objects.for_organization(org)
        .filter(note__startswith=NOTE_PREFIX)
        .exclude(project_id__in=touched)
        .values("project_id", "seq", "note")
    )
    Path(out_path).write_text(
        json.dumps({"journal": journal, "projects": projects, "elsewhere": elsewhere})
    )


def read_moves(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- the run --------------------------------------------------------------------------------
def server_env(url: str) -> dict:
    """Production settings (DEBUG off, a real secret key) for plain HTTP on 127.0.0.1."""
    env = scale._env(url)
    env.pop("DJANGO_ALLOW_DEV_SECRET", None)
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SITE_URL="http://127.0.0.1",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on localhost: no TLS proxy in front
        DJANGO_SECURE_COOKIES="0",  # ... so cookies cannot be Secure-only either
        REDIS_URL=REDIS,
    )
    return env


APP_ROLE = "cdmo_app"


def app_role_env(env: dict, owner_url: str) -> dict:
    """As in production: the app (gunicorn, the worker) connects as a role that owns no table
    and cannot bypass row-level security; `migrate` connects as the owner."""
    scheme, _, rest = owner_url.partition("://")
    host_and_db = rest.split("@", 1)[-1]
    return {
        **env,
        "DATABASE_URL": f"{scheme}://{APP_ROLE}@{host_and_db}",
        "DATABASE_OWNER_URL": owner_url,
    }


def ensure_app_role(pg: str) -> None:
    psql(
        pg,
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
        f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; "
        "END IF; END $$",
    )


def psql(pg: str, sql: str) -> None:
    subprocess.run(["psql", pg + "/postgres", "-qc", sql], check=True)


def child(args: list[str], env: dict) -> None:
    subprocess.run([sys.executable, "-m", "bench.load", *args], cwd=ROOT, env=env, check=True)


def run(users: int, seconds: int, pg: str, rebuild: bool) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    if rebuild:
        psql(pg, f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    scale.prepare(SIZE, pg, db=TEMPLATE)
    psql(pg, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(pg, f"CREATE DATABASE {DB} TEMPLATE {TEMPLATE}")
    url = f"{pg}/{DB}"
    env = server_env(url)  # the owner: migrate, and the bench's own set-up and journal check
    ensure_app_role(pg)
    app_env = app_role_env(env, url)
    plan_path, moves_path = WORK / "plan.json", WORK / "moves.jsonl"
    moves_path.unlink(missing_ok=True)
    print(f"preparing {DB} ...", flush=True)
    # As deployed: migrate connects as the owner and grants the app role its rights.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=app_env, check=True
    )
    child(["--prepare-child", str(plan_path)], env)
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    prefix = WORK / "locust"
    load_before = os.getloadavg()[0]
    stats_path = WORK / "stats.json"
    stats_path.unlink(missing_ok=True)
    started = dt.datetime.now(dt.UTC)
    with (
        open(WORK / "server.log", "w") as log,
        scale.celery_worker(app_env, log=log),
        scale.gunicorn(app_env, workers=WORKERS, threads=0, log=log) as base,
    ):
        print(f"locust: {users} users for {seconds} s against {base} ...", flush=True)
        locust = subprocess.run(
            [
                str(Path(sys.executable).with_name("locust")),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                "8",
                "--run-time",  # a bound: the window itself starts once everybody is logged in
                f"{seconds + LOGIN_ALLOWANCE}s",
                "--stop-timeout",
                "10",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--exit-code-on-error",
                "0",
            ],
            cwd=ROOT,
            env={
                **app_env,
                "BENCH_LOAD_PLAN": str(plan_path),
                "BENCH_LOAD_MOVES": str(moves_path),
                "BENCH_LOAD_STATS": str(stats_path),
                "BENCH_LOAD_SECONDS": str(seconds),
            },
            timeout=seconds + LOGIN_ALLOWANCE + 120,  # hard bound on the whole run
            capture_output=True,
            text=True,
        )
    (WORK / "locust.log").write_text(locust.stdout + locust.stderr)
    if locust.returncode:
        print(locust.stdout[-3000:], locust.stderr[-5000:])
        raise SystemExit(f"locust exited with {locust.returncode}")
    journal_path = WORK / "journal.json"
    child(["--journal-child", str(plan_path), str(moves_path), str(journal_path)], env)
    plan = json.loads(plan_path.read_text())
    state = json.loads(journal_path.read_text())
    check = journal_check(
        read_moves(moves_path),
        {int(k): v for k, v in plan["baseline"].items()},
        {int(k): v for k, v in state["journal"].items()},
        {int(k): v for k, v in state["projects"].items()},
        state["elsewhere"],
    )
    return {
        "users": users,
        "seconds": seconds,
        "started": started,
        "load before": load_before,
        "stats": json.loads(stats_path.read_text()),
        "check": check,
        "size": plan["size"],
        "organization": plan["organization"],
    }


def machine(load_before: float) -> str:
    cpus = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    pg = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{platform.machine()}, {cpus} cores, {mem:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {pg}; load average "
        f"{load_before:.1f} before the run (other work on the machine), "
        f"{os.getloadavg()[0]:.1f} after"
    )


def report(result: dict) -> tuple[str, bool]:
    """bench/load.md's text, and whether the run passed (no failure, journal intact)."""
    stats, check = result["stats"], result["check"]
    window, warmup = stats["window"], stats["warmup"]
    if window is None or warmup is None:
        return (
            f"# Load test\n\nThe measured window never started: {stats['users_ready']} of "
            f"{result['users']} users got in.\n",
            False,
        )
    total = window["total"]
    requests, failures = total["requests"], total["failures"]
    before = warmup["total"]
    all_failures = failures + before["failures"]
    rate = failures / requests if requests else 1.0
    ok = all_failures == 0 and requests > 0 and check["ok"]
    logins = {r["name"]: r for r in warmup["rows"] if r["method"] == "POST"}.get("login")

    def line(r: dict, label: str) -> str:
        return (
            f"| {label} | {r['requests']} | {r['failures']} | {r['p50']:.0f} | {r['p95']:.0f} "
            f"| {r['p99']:.0f} | {r['max']:.0f} |"
        )

    size = result["size"]
    lines = [
        "# Load test (`make bench-load`)",
        "",
        f"{result['users']} users against gunicorn ({WORKERS} sync workers as in the "
        f"Dockerfile, 127.0.0.1) on PostgreSQL (the app and the worker connect as the row-level-security role `cdmo_app`) with Redis and a Celery worker, DEBUG off; "
        f"the organization `{result['organization']}` of the medium size "
        f"({size['clients']} clients, {size['projects']} projects, "
        f"{size['active projects']} of them active). "
        f"Run {result['started']:%Y-%m-%d %H:%M} UTC on {machine(result['load before'])}.",
        "",
        f"**Measured window ({stats['window_seconds']:.0f} s, once every user was logged in): "
        f"{requests} requests, {failures} failed, error rate {rate:.2%}** "
        f"({requests / max(stats['window_seconds'], 1):.1f} requests/s). Before it, "
        f"{before['requests']} requests with {before['failures']} failed"
        + (
            f", among them {logins['requests']} logins with the login form (p50 "
            f"{logins['p50']:.0f} ms, max {logins['max']:.0f} ms: a password hash is about "
            f"0.5 s of CPU by design, all at once here)"
            if logins
            else ""
        )
        + ".",
        "",
        f"**Journal check: {'passed' if check['ok'] else 'FAILED'}**: {check['accepted']} moves "
        f"accepted by the server over {check['projects']} projects, {check['journaled']} of "
        f"them in the journal exactly once; {len(check['lost'])} lost, "
        f"{len(check['duplicated'])} duplicated, {len(check['unexpected'])} unexpected entries, "
        f"{len(check['problems'])} other problems (seq gaps, a project out of step with its "
        f"last entry); {check['refused']} moves refused by the journey (a domain answer, "
        f"counted apart, not an error).",
        "",
        "Client-side times (locust) in ms per request type in the window; a page is its HTML, "
        "the htmx panels it loads are their own `panel ...` rows.",
        "",
        "| request type | requests | failures | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [r for r in window["rows"] if r["requests"]]
    for r in sorted(rows, key=lambda r: (r["method"] != "GET", r["name"])):
        lines.append(line(r, f"{r['method']} {r['name']}"))
    lines.append(line(total, "**all**"))
    errors = warmup["errors"] + window["errors"]
    if errors:
        lines += ["", "Failures:", ""]
        lines += [f"- {e['method']} {e['name']}: {e['error']} x{e['occurrences']}" for e in errors]
    for label in ("lost", "duplicated", "unexpected", "problems"):
        if check[label]:
            lines += ["", f"Journal check, {label}:", ""]
            lines += [f"- {p}" for p in check[label][:50]]
    return "\n".join(lines) + "\n", ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--pg", default=scale.DEFAULT_PG)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the template data")
    parser.add_argument("--out", default=str(ROOT / "bench" / "load.md"))
    parser.add_argument("--prepare-child", metavar="PLAN")
    parser.add_argument("--journal-child", nargs=3, metavar=("PLAN", "MOVES", "OUT"))
    args = parser.parse_args()
    if args.prepare_child:
        prepare_child(args.prepare_child)
        return 0
    if args.journal_child:
        journal_child(*args.journal_child)
        return 0
    if args.users > SLOTS:
        parser.error(f"at most {SLOTS} users")
    text, ok = report(run(args.users, args.seconds, args.pg, args.rebuild))
    Path(args.out).write_text(text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
