"""The load test's users (locust): people in the browser and an integration on the API.

Started by `python -m bench.load`, which prepares the database and writes the plan this file
reads (`BENCH_LOAD_PLAN`, JSON): the password of the bench accounts, an API key, the ids to
read, and for every user slot its account and its own projects to move (disjoint, so two
users never move one project). Every move's outcome is appended to `BENCH_LOAD_MOVES` (JSON
lines) for the journal check; each move carries a unique note, so its journal entry can be
found again.

Requests are named by type (`name=`): ids become `[id]`, so the statistics group pages,
their htmx panels, lists and moves whatever the object.

The measured window: every user first logs in with the login form (a password hash costs
about half a second of CPU by design, and 32 people do not all log in within the same few
seconds in real life), then, once the last one is in, the statistics restart and run for
`BENCH_LOAD_SECONDS`. What happened before (the logins, the first requests, any failure) is
kept apart, and both go to `BENCH_LOAD_STATS` (JSON) when the test stops.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid

import gevent
from locust import HttpUser, between, events, task

PLAN_PATH = os.environ.get("BENCH_LOAD_PLAN", "")
MOVES_PATH = os.environ.get("BENCH_LOAD_MOVES", "")
STATS_PATH = os.environ.get("BENCH_LOAD_STATS", "")
WINDOW_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "0") or 0)

# The forward move out of each phase (SPEC's journey: one step at a time, close-out ends
# completed). Decisions other than `won`, holds and cancellations are left to real users.
FORWARD = {
    "assess": "initiate",
    "initiate": "plan",
    "plan": "execute",
    "execute": "close_out",
    "close_out": "completed",
}
SEGMENTS = ["big_pharma", "mid_pharma", "biotech", "virtual_biotech", "academic"]
PHASES = list(FORWARD)

# An element that loads its content once the page is in (the browser's lazy htmx panels).
TAG = re.compile(r"<[^>]+>")
HX_GET = re.compile(r'hx-get="([^"]+)"')
HX_TRIGGER = re.compile(r'hx-trigger="([^"]*)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MOVE_BUTTON = re.compile(r'data-move="([a-z_]+)"')
IDS = re.compile(r"/\d+/")


def load_plan() -> dict:
    if not PLAN_PATH:
        return {}
    with open(PLAN_PATH) as f:
        return json.load(f)


PLAN = load_plan()
_slots = {
    name: itertools.count() for name in ("executive", "account_manager", "project_manager", "api")
}


def take_slot(kind: str) -> dict:
    """The next slot of this kind: an account and its own projects to move."""
    slots = PLAN[kind]
    i = next(_slots[kind])
    if i >= len(slots):
        raise RuntimeError(f"more {kind} users than slots in the plan ({len(slots)})")
    return slots[i]


def record(**move) -> None:
    """Append one move's outcome (`accepted`, `refused`, `failed`) for the journal check."""
    if not MOVES_PATH:
        return
    with open(MOVES_PATH, "a") as f:
        f.write(json.dumps(move) + "\n")
        f.flush()


def lazy_panels(html: str) -> list[str]:
    """The URLs the page's htmx elements load as soon as it is shown (`hx-trigger="load..."`)."""
    urls = []
    for tag in TAG.findall(html):
        get, trigger = HX_GET.search(tag), HX_TRIGGER.search(tag)
        if get and trigger and trigger.group(1).split(",")[0].strip() == "load":
            urls.append(get.group(1).replace("&amp;", "&"))
    return urls


# --- the measured window ----------------------------------------------------------------------
_phase: dict = {"ready": 0, "warmup": None, "window_started": None}


def entry_row(e) -> dict:
    return {
        "method": e.method,
        "name": e.name,
        "requests": e.num_requests,
        "failures": e.num_failures,
        "p50": e.get_response_time_percentile(0.5),
        "p95": e.get_response_time_percentile(0.95),
        "p99": e.get_response_time_percentile(0.99),
        "max": e.max_response_time,
    }


def snapshot(stats) -> dict:
    return {
        "rows": [entry_row(e) for e in stats.entries.values()],
        "total": entry_row(stats.total),
        "errors": [
            {
                "method": e.method,
                "name": e.name,
                "error": e.error if isinstance(e.error, str) else repr(e.error),
                "occurrences": e.occurrences,
            }
            for e in stats.errors.values()
        ],
    }


def ready(environment) -> None:
    """A user is logged in; the last one starts the measured window."""
    _phase["ready"] += 1
    runner = environment.runner
    if runner is None or _phase["ready"] != runner.target_user_count:
        return
    _phase["warmup"] = snapshot(environment.stats)
    environment.stats.reset_all()
    _phase["window_started"] = time.time()
    if WINDOW_SECONDS:
        gevent.spawn_later(WINDOW_SECONDS, runner.quit)


@events.test_stop.add_listener
def save_stats(environment, **_kwargs) -> None:
    if not STATS_PATH:
        return
    started = _phase["window_started"]
    result = {
        "warmup": _phase["warmup"],
        "window": snapshot(environment.stats) if started else None,
        "window_seconds": round(time.time() - started, 1) if started else 0,
        "users_ready": _phase["ready"],
    }
    with open(STATS_PATH, "w") as f:
        json.dump(result, f)


def why(response) -> str:
    """A failure's reason: the HTTP status, or the connection error (status 0)."""
    return (
        f"{response.status_code} {response.error!r}"
        if response.error
        else str(response.status_code)
    )


def kind_of(path: str) -> str:
    """A request type from a path: ids as `[id]`, the query string dropped."""
    return IDS.sub("/[id]/", path.split("?")[0])


class BrowserUser(HttpUser):
    """A person in the browser: logs in once with the login form, then reads pages (and
    the htmx panels they load) and moves projects with the project page's form."""

    abstract = True
    kind = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.slot = take_slot(self.kind)
        self.pool = {int(pid): phase for pid, phase in self.slot.get("pool", {}).items()}
        self.csrf = ""
        try:
            self.login()
        finally:
            ready(self.environment)

    # --- helpers ------------------------------------------------------------------------
    def login(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.slot["email"],
                "password": PLAN["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="login",
            catch_response=True,
        ) as response:
            if "/accounts/login/" in response.url:
                response.failure("login refused")

    def page(self, path: str, name: str, *, panels: bool = True) -> str:
        """A full page as the browser loads it: the page, then its lazy panels."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(why(response))
                return ""
            if "/accounts/login/" in response.url:
                response.failure("logged out")
                return ""
        html = response.text
        token = CSRF.search(html)
        if token:
            self.csrf = token.group(1)
        if panels:
            for url in lazy_panels(html):
                self.client.get(
                    url,
                    name=f"panel {kind_of(url)}",
                    headers={"HX-Request": "true", "HX-Current-URL": f"{self.host}{path}"},
                )
        return html

    def list_page(self, path: str, name: str) -> None:
        self.page(path, name)

    def filtered(self, path: str, name: str, params: dict) -> None:
        """A list filtered in place (the filter form's htmx request, targeting #results)."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        self.client.get(
            f"{path}?{query}",
            name=name,
            headers={
                "HX-Request": "true",
                "HX-Target": "results",
                "HX-Current-URL": f"{self.host}{path}",
            },
        )

    def client_page(self) -> None:
        cid = random.choice(PLAN["clients"])
        self.page(f"/clients/{cid}/", "client page")

    def project_page(self) -> None:
        pid = random.choice(PLAN["projects"])
        self.page(f"/projects/{pid}/", "project page")

    def move(self) -> None:
        """Open one of my projects and move it one step forward with the page's form."""
        if not self.pool:
            self.project_page()
            return
        pid = random.choice(sorted(self.pool))
        html = self.page(f"/projects/{pid}/", "project page")
        if not html:
            return
        phase = self.pool[pid]
        to = FORWARD[phase]
        offered = set(MOVE_BUTTON.findall(html))
        if to not in offered:
            # Not what the plan said (moved by someone else?): a domain answer, not an error.
            record(project=pid, via="browser", outcome="not offered", **{"from": phase, "to": to})
            del self.pool[pid]
            return
        token = uuid.uuid4().hex
        with self.client.post(
            f"/projects/{pid}/transition/",
            data={"to": to, "at": "", "note": f"load {token}", "csrfmiddlewaretoken": self.csrf},
            headers={
                "HX-Request": "true",
                "HX-Target": "journey",
                "HX-Current-URL": f"{self.host}/projects/{pid}/",
                "X-CSRFToken": self.csrf,
            },
            name="move (browser)",
            catch_response=True,
        ) as response:
            move = {"project": pid, "from": phase, "to": to, "token": token, "via": "browser"}
            if response.status_code == 200 and 'class="alert success"' in response.text:
                record(**move, outcome="accepted")
                self.advance(pid, to)
            elif response.status_code == 200 and 'data-error-for="to"' in response.text:
                # The journey refused it (someone moved it first): counted apart, not an error.
                record(**move, outcome="refused")
                response.success()
                del self.pool[pid]
            else:
                record(**move, outcome="failed", status=response.status_code)
                response.failure(why(response))

    def advance(self, pid: int, to: str) -> None:
        if to == "completed":
            del self.pool[pid]
        else:
            self.pool[pid] = to


class Executive(BrowserUser):
    """Reads the dashboard first, then the lists and an account now and then."""

    weight = 2
    kind = "executive"

    @task(4)
    def dashboard(self) -> None:
        self.page("/dashboard/", "dashboard")

    @task(1)
    def dashboard_slice(self) -> None:
        self.page(f"/dashboard/?slice=segment:{random.choice(SEGMENTS)}", "dashboard (sliced)")

    @task(1)
    def home(self) -> None:
        self.page("/", "home")

    @task(2)
    def clients(self) -> None:
        self.filtered("/clients/", "clients (filtered)", {"segment": random.choice(SEGMENTS)})

    @task(2)
    def projects(self) -> None:
        self.filtered(
            "/projects/", "projects (filtered)", {"status": "open", "phase": random.choice(PHASES)}
        )

    @task(2)
    def client(self) -> None:
        self.client_page()

    @task(1)
    def alerts(self) -> None:
        self.page("/alerts/?who=all", "alerts (all)")


class AccountManager(BrowserUser):
    """Works through the accounts: lists, client pages, and the decisions and moves of the
    projects in their own pool."""

    weight = 3
    kind = "account_manager"

    @task(1)
    def home(self) -> None:
        self.page("/", "home")

    @task(2)
    def clients(self) -> None:
        self.list_page(f"/clients/?page={random.randint(1, 8)}", "clients (page)")

    @task(1)
    def my_clients(self) -> None:
        self.filtered("/clients/", "clients (filtered)", {"account_manager": self.slot["email"]})

    @task(3)
    def client(self) -> None:
        self.client_page()

    @task(2)
    def project(self) -> None:
        self.project_page()

    @task(1)
    def alerts(self) -> None:
        self.page("/alerts/", "alerts (mine)")

    @task(3)
    def transition(self) -> None:
        self.move()


class ProjectManager(BrowserUser):
    """My projects, their pages, the board, and moving my projects along."""

    weight = 4
    kind = "project_manager"

    @task(2)
    def my_projects(self) -> None:
        self.page("/projects/mine/", "my projects")

    @task(1)
    def projects(self) -> None:
        self.list_page(f"/projects/?page={random.randint(1, 8)}", "projects (page)")

    @task(3)
    def project(self) -> None:
        self.project_page()

    @task(1)
    def board(self) -> None:
        self.page("/board/?mine=1", "board (mine)")

    @task(1)
    def alerts(self) -> None:
        self.page("/alerts/", "alerts (mine)")

    @task(3)
    def transition(self) -> None:
        self.move()


class Integration(HttpUser):
    """An ERP integration with a write API key: polls the lists and reports moves."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.slot = take_slot("api")
        self.pool = {int(pid): phase for pid, phase in self.slot.get("pool", {}).items()}
        self.client.headers["Authorization"] = f"Bearer {PLAN['api_key']}"
        ready(self.environment)

    @task(3)
    def projects(self) -> None:
        self.client.get(
            f"/api/v1/projects/?status=open&phase={random.choice(PHASES)}",
            name="api projects (filtered)",
        )

    @task(1)
    def clients(self) -> None:
        self.client.get(f"/api/v1/clients/?page={random.randint(1, 4)}", name="api clients (page)")

    @task(1)
    def timeline(self) -> None:
        pid = random.choice(PLAN["projects"])
        self.client.get(f"/api/v1/projects/{pid}/timeline/", name="api timeline")

    @task(2)
    def transition(self) -> None:
        if not self.pool:
            return
        pid = random.choice(sorted(self.pool))
        phase = self.pool[pid]
        to = FORWARD[phase]
        token = uuid.uuid4().hex
        move = {"project": pid, "from": phase, "to": to, "token": token, "via": "api"}
        with self.client.post(
            f"/api/v1/projects/{pid}/transition/",
            json={"to": to, "note": f"load {token}"},
            name="move (api)",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                record(**move, outcome="accepted")
                if to == "completed":
                    del self.pool[pid]
                else:
                    self.pool[pid] = to
            elif response.status_code == 400:
                record(**move, outcome="refused", detail=response.text[:300])
                response.success()
                del self.pool[pid]
            else:
                record(**move, outcome="failed", status=response.status_code)
                response.failure(why(response))
