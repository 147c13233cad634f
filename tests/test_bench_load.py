"""The load test's pieces that need no server: the locustfile loads, and the journal check
catches a lost, a duplicated and an unexpected entry (it can fail)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.load import NOTE_PREFIX, journal_check

ROOT = Path(__file__).resolve().parent.parent


def test_locustfile_loads_with_its_user_classes(tmp_path):
    # In a child: importing locust monkey-patches the process (gevent), not this one's business.
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"executive": [{"email": "e@x.example"}]}))
    code = (
        "import bench.locustfile as f\n"
        "kinds = sorted(c.__name__ for c in (f.Executive, f.AccountManager, f.ProjectManager, "
        "f.Integration))\n"
        "print(kinds, f.take_slot('executive')['email'], f.kind_of('/projects/12/pm-panel/?x=1'))\n"
        'print(f.lazy_panels(\'<div hx-get="/clients/3/health/" hx-trigger="load, x from:body">'
        '<form hx-get="/clients/" hx-trigger="change">\'))\n'
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"BENCH_LOAD_PLAN": str(plan), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert out == [
        "['AccountManager', 'Executive', 'Integration', 'ProjectManager'] e@x.example "
        "/projects/[id]/pm-panel/",
        "['/clients/3/health/']",
    ]


def entry(seq, frm, to, status="active", token=None):
    return {
        "seq": seq,
        "kind": "advanced",
        "from_phase": frm,
        "to_phase": to,
        "to_status": status,
        "note": NOTE_PREFIX + token if token else "",
    }


def fixture():
    """Project 1 was in plan (seq 3) and moved to execute then close_out; project 2 was in
    close_out (seq 5) and completed; project 3's move was refused."""
    moves = [
        {"project": 1, "from": "plan", "to": "execute", "token": "a", "outcome": "accepted"},
        {"project": 2, "from": "close_out", "to": "completed", "token": "b", "outcome": "accepted"},
        {"project": 1, "from": "execute", "to": "close_out", "token": "c", "outcome": "accepted"},
        {"project": 3, "from": "assess", "to": "initiate", "token": "d", "outcome": "refused"},
    ]
    baseline = {1: 3, 2: 5, 3: 1}
    journal = {
        1: [
            entry(1, None, "assess"),
            entry(2, "assess", "initiate"),
            entry(3, "initiate", "plan"),
            entry(4, "plan", "execute", token="a"),
            entry(5, "execute", "close_out", token="c"),
        ],
        2: [
            *(entry(i, "x", "close_out") for i in range(1, 6)),
            entry(6, "close_out", "close_out", "completed", "b"),
        ],
        3: [entry(1, None, "assess")],
    }
    projects = {
        1: {"phase": "close_out", "status": "active", "journal_seq": 5},
        2: {"phase": "close_out", "status": "completed", "journal_seq": 6},
        3: {"phase": "assess", "status": "active", "journal_seq": 1},
    }
    return moves, baseline, journal, projects


def test_journal_check_passes_an_intact_journal():
    result = journal_check(*fixture())
    assert result["ok"], result
    assert (result["accepted"], result["journaled"], result["refused"]) == (3, 3, 1)


def test_journal_check_finds_a_lost_entry():
    moves, baseline, journal, projects = fixture()
    journal[1].pop()  # the close_out move's entry is gone...
    projects[1] = {"phase": "execute", "status": "active", "journal_seq": 4}  # ...consistently
    result = journal_check(moves, baseline, journal, projects)
    assert not result["ok"]
    assert result["lost"] == ["project 1: execute -> close_out (accepted)"]
    assert result["journaled"] == 2


def test_journal_check_finds_a_duplicated_entry():
    moves, baseline, journal, projects = fixture()
    journal[2].append(entry(7, "close_out", "close_out", "completed", "b"))
    projects[2]["journal_seq"] = 7
    result = journal_check(moves, baseline, journal, projects)
    assert not result["ok"]
    assert result["duplicated"] == ["project 2: close_out -> completed (accepted) written 2 times"]
    assert not result["lost"]


def test_journal_check_finds_unexpected_entries_and_a_stale_project():
    moves, baseline, journal, projects = fixture()
    journal[3].append(entry(2, "assess", "initiate", token="d"))  # a refused move was written
    result = journal_check(
        moves,
        baseline,
        journal,
        projects,
        [{"project_id": 9, "seq": 4, "note": NOTE_PREFIX + "zz"}],
    )
    assert not result["ok"]
    assert result["unexpected"] == [
        "project 9: entry seq 4 (load zz) but no move tried it",
        "project 3: assess -> initiate (refused) but written 1 time(s)",
    ]
    # The project's state no longer matches its last entry either.
    assert result["problems"] == [
        "project 3: is assess/active seq 1 but its last entry is initiate/active seq 2"
    ]


def test_journal_check_finds_a_gap_and_a_wrong_entry():
    moves, baseline, journal, projects = fixture()
    journal[1][3] = entry(4, "plan", "close_out", token="a")  # written as another move
    del journal[1][1]  # and a hole in seq
    result = journal_check(moves, baseline, journal, projects)
    assert not result["ok"]
    assert result["problems"] == [
        "project 1: journal seq is [1, 3, 4, 5], not 1..4",
        "project 1: plan -> execute (accepted): written as plan -> ('close_out', 'active')",
    ]


def stats(window_failures=0, warmup_failures=0):
    def row(name, method, requests, failures):
        return {
            "method": method,
            "name": name,
            "requests": requests,
            "failures": failures,
            "p50": 120,
            "p95": 400,
            "p99": 700,
            "max": 900,
        }

    return {
        "warmup": {
            "rows": [row("login", "POST", 4, warmup_failures)],
            "total": row("Aggregated", "", 6, warmup_failures),
            "errors": [],
        },
        "window": {
            "rows": [row("dashboard", "GET", 50, window_failures), row("login", "POST", 0, 0)],
            "total": row("Aggregated", "", 50, window_failures),
            "errors": [],
        },
        "window_seconds": 60,
        "users_ready": 4,
    }


def run_result(check, **kwargs):
    import datetime as dt

    return {
        "users": 4,
        "seconds": 60,
        "started": dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        "load before": 1.0,
        "stats": stats(**kwargs),
        "check": check,
        "size": {"clients": 1, "projects": 2, "active projects": 2, "members": 3},
        "organization": "bench-medium-a",
    }


def test_the_run_fails_on_any_failed_request_or_a_journal_problem():
    from bench.load import report

    good = journal_check(*fixture())
    text, ok = report(run_result(good))
    assert ok
    assert "| GET dashboard | 50 | 0 | 120 | 400 | 700 | 900 |" in text
    assert "POST login |" not in text  # no request in the window: no row
    assert "error rate 0.00%" in text and "Journal check: passed" in text
    assert not report(run_result(good, window_failures=1))[1]
    assert not report(run_result(good, warmup_failures=1))[1]  # a failed login counts too
    moves, baseline, journal, projects = fixture()
    journal[1].pop()
    text, ok = report(run_result(journal_check(moves, baseline, journal, projects)))
    assert not ok
    assert "Journal check: FAILED" in text and "- project 1: execute -> close_out" in text
