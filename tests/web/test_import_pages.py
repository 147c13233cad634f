"""The browser's CSV import: upload -> preview with every problem (row, column) and nothing
written -> fix -> "Write N rows"; templates; the size limit; roles; another organization's
job is a 404; the preview's queries do not grow with the file; the progress while a step
runs. Screenshots at 1280 and 390 pixels in Chromium."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from journey.imports import services as import_services
from journey.models import Client, ImportJob, ImportJobStatus, PhaseTransition, Project

pytestmark = pytest.mark.django_db
_capture = None


@pytest.fixture(autouse=True)
def _run_after_commit(django_capture_on_commit_callbacks):
    """The tests run inside a transaction: run what the request hands over after commit (the
    outbox's tasks, performed in process without a broker) as a real commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def upload(http, kind: str, text: str, name: str = "file.csv"):
    with _capture(execute=True):
        return http.post(
            reverse("import_start"),
            {
                "kind": kind,
                "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv"),
            },
        )


def confirm(http, job_id: int):
    with _capture(execute=True):
        return http.post(reverse("import_job_write", args=[job_id]))


def job_of(response) -> ImportJob:
    assert response.status_code == 302, response.content[:500]
    job_id = int(re.search(r"/import/(\d+)/", response["Location"]).group(1))
    return ImportJob.objects.unscoped_dangerously().get(pk=job_id)


def when(days: int) -> str:
    return (timezone.now() - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("am", 200), ("exec", 403), ("pm", 403), ("viewer", 403)],
)
def test_import_is_for_admins_and_account_managers(world, login, role, status):
    http = login(world.people[role])
    assert http.get(reverse("import_start")).status_code == status
    assert http.get(reverse("import_template", args=["clients"])).status_code == status
    before = Client.objects.for_organization(world.org).count()
    response = upload(http, "clients", "name,segment\nForged Bio,biotech\n")
    assert response.status_code == (302 if status == 200 else 403)
    if status == 403:
        assert ImportJob.objects.for_organization(world.org).count() == 0
    assert Client.objects.for_organization(world.org).count() == before  # nothing written yet
    nav = http.get(reverse("home")).content.decode()
    assert ('data-nav="import"' in nav) == (status == 200)


def test_upload_preview_problems_fix_and_write(world, login):
    """A journey file with a skipped phase and a move before the project opened: the preview
    lists both with their rows and columns and nothing is written; the fixed file shows "Write
    2 rows"; writing moves the project, journaled and audited for the account manager."""
    am = world.people["am"]
    http = login(am)
    project = world.assess  # BIG-001, in assess, opened 60 days ago
    journal_before = PhaseTransition.objects.for_organization(world.org).count()
    audit_before = AuditEvent.objects.filter(organization=world.org).count()
    bad = f"project,to,at,note\nBIG-001,plan,{when(30)},skips\nBIG-001,initiate,{when(90)},too early\n"
    job = job_of(upload(http, "transitions", bad, "moves.csv"))
    assert job.status == ImportJobStatus.INVALID  # checked in process (no broker in tests)
    html = http.get(reverse("import_job", args=[job.pk])).content.decode()
    assert 'data-testid="problem-count">2<' in html
    rows = re.findall(
        r'<tr data-testid="problem"><td class="r num">(\d+)</td><td><code>(\w+)</code></td><td>([^<]+)</td>',
        html,
    )
    assert [(r, c) for r, c, _ in rows] == [("2", "to"), ("3", "at")]
    assert "Projects move one phase at a time" in rows[0][2]
    assert "is before the previous move" in rows[1][2]
    assert "Write " not in html and 'data-testid="import-preview"' in html
    assert PhaseTransition.objects.for_organization(world.org).count() == journal_before
    assert AuditEvent.objects.filter(organization=world.org).count() == audit_before
    # Writing an invalid job is refused, nothing changes.
    refused = confirm(http, job.pk)
    assert refused.status_code == 400 and b"has problems" in refused.content
    good = f"project,to,at,note\nBIG-001,initiate,{when(30)},Won\nBIG-001,plan,{when(10)},\n"
    job = job_of(upload(http, "transitions", good, "moves-fixed.csv"))
    assert job.status == ImportJobStatus.READY
    html = http.get(reverse("import_job", args=[job.pk])).content.decode()
    assert "Write 2 rows" in html
    assert PhaseTransition.objects.for_organization(world.org).count() == journal_before
    done = confirm(http, job.pk)
    assert done.status_code == 302
    job.refresh_from_db()
    assert (
        job.status == ImportJobStatus.DONE and job.rows_written == 2 and bytes(job.content) == b""
    )
    project.refresh_from_db()
    assert project.phase == "plan"
    moves = (
        PhaseTransition.objects.for_organization(world.org).filter(project=project).order_by("seq")
    )
    assert [t.kind for t in moves] == ["opened", "won", "advanced"] and moves.last().by == am.user
    assert (
        AuditEvent.objects.filter(
            organization=world.org, action="transition", object_id=project.pk, actor_user=am.user
        ).count()
        == 2
    )
    assert b'data-testid="import-done"' in http.get(reverse("import_job", args=[job.pk])).content
    # A second confirmation writes nothing again.
    assert confirm(http, job.pk).status_code == 400
    assert PhaseTransition.objects.for_organization(world.org).filter(project=project).count() == 3


def test_the_write_checks_again_and_writes_nothing_if_the_data_moved(world, login):
    http = login(world.people["am"])
    job = job_of(upload(http, "clients", "name,segment\nLate Bio,biotech\nLater Bio,academic\n"))
    assert job.status == ImportJobStatus.READY
    Client.objects.create(
        organization=world.org, name="Later Bio", segment="academic", service_model="consultative"
    )
    confirm(http, job.pk)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INVALID
    assert job.problems == [
        {"row": 3, "column": "name", "message": "A client with this name already exists."}
    ]
    assert not Client.objects.for_organization(world.org).filter(name="Late Bio").exists()


def test_another_organizations_job_is_404(world, elsewhere, login):
    theirs = job_of(
        upload(login(elsewhere.people["admin"]), "clients", "name,segment\nX Bio,biotech\n")
    )
    http = login(world.people["admin"])
    assert http.get(reverse("import_job", args=[theirs.pk])).status_code == 404
    assert confirm(http, theirs.pk).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ImportJobStatus.READY  # untouched
    assert "X Bio" not in http.get(reverse("import_start")).content.decode()


def test_template_download_and_size_limit_and_bad_files(world, login, monkeypatch):
    http = login(world.people["admin"])
    response = http.get(reverse("import_template", args=["projects"]))
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert (
        lines[0]
        == "client,name,code,modality,service_type,project_manager,executive_sponsor,contract_value,currency,description,opened_at"
    )
    assert len(lines) == 2
    assert http.get(reverse("import_template", args=["nope"])).status_code == 404
    monkeypatch.setattr("journey.import_views.MAX_BYTES", 100)
    too_big = upload(http, "clients", "name,segment\n" + "A Bio,biotech\n" * 20)
    assert too_big.status_code == 200
    assert "the limit is 100 bytes. Split it into smaller files." in too_big.content.decode()
    assert 'data-error-for="file"' in too_big.content.decode()
    assert ImportJob.objects.for_organization(world.org).count() == 0


def test_preview_queries_do_not_grow_with_the_problems(world, login):
    """Fifty problems a page: a file with 3 problems and one with 400 cost the same queries."""
    http = login(world.people["am"])
    small = job_of(
        upload(http, "clients", "name,segment\n" + "".join(f"S{i},bad\n" for i in range(3)))
    )
    large = job_of(
        upload(http, "clients", "name,segment\n" + "".join(f"L{i},bad\n" for i in range(400)))
    )
    assert small.problem_count == 3 and large.problem_count == 400
    counts = []
    for job in (small, large):
        with CaptureQueriesContext(connection) as queries:
            html = http.get(reverse("import_job", args=[job.pk])).content.decode()
        counts.append(len(queries))
        assert html.count('data-testid="problem"') == min(job.problem_count, 50)
    assert counts[0] == counts[1]
    page8 = http.get(
        reverse("import_job", args=[large.pk]),
        {"page": 8},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="problems",
    )
    assert b"<html" not in page8.content and page8.content.count(b'data-testid="problem"') == 50
    assert b">352<" in page8.content  # problems 351-400: rows 352-401


def test_progress_while_a_step_runs(world, login):
    """While a step runs (on a worker with Redis), the page shows the rows done and polls;
    once it ends, the poll answers HX-Refresh and the page shows the result."""
    http = login(world.people["am"])
    job = ImportJob.objects.create(
        organization=world.org,
        kind="touchpoints",
        filename="big.csv",
        content=b"x",
        status=ImportJobStatus.CHECKING,
        row_count=50_000,
        created_by=world.people["am"].user,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    from django.core.cache import cache

    cache.set(import_services._progress_key(job), 12_500)
    html = http.get(reverse("import_job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "pct-25" in html and ">12500<" in html
    ImportJob.objects.for_organization(world.org).filter(pk=job.pk).update(
        status=ImportJobStatus.READY, rows_checked=50_000
    )
    poll = http.get(
        reverse("import_job", args=[job.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-status"
    )
    assert poll["HX-Refresh"] == "true" and b"every 1s" not in poll.content


# --- in Chromium: the pages at 1280 and 390 pixels --------------------------------------------
pytest_plugins = ["tests.web.browser"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_import_pages_in_chromium(browser, live_server, width):
    from tests.web.browser_support import SHOTS, check, watch, why_skipped
    from tests.web.conftest import PASSWORD, build_world

    if why_skipped():
        pytest.skip(why_skipped())
    world = build_world()
    context = browser.new_context(
        viewport={"width": width, "height": 900}, base_url=live_server.url
    )
    tab = context.new_page()
    problems = watch(tab)
    tab.goto("/accounts/login/")
    tab.fill("input[name=username]", "am@alpha.example")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r".*/$"))
    tab.goto("/import/")
    tab.screenshot(path=str(SHOTS / f"import-start-{width}.png"), full_page=True)
    path = SHOTS.parent / "import-bad.csv"
    bad = "client,name,code,modality,project_manager,opened_at\n" + "".join(
        f"Bigco Pharma,Programme {i},{'BIG-001' if i % 3 == 0 else f'NEW-{i}'},"
        f"{'biologic' if i % 4 else 'antimatter'},{'ghost@alpha.example' if i % 5 == 0 else ''},"
        f"{'1985-01-01' if i % 7 == 0 else '2024-02-01'}\n"
        for i in range(1, 40)
    )
    path.write_text(bad)
    tab.select_option("select[name=kind]", "projects")
    tab.set_input_files("input[name=file]", str(path))
    tab.click("[data-testid=import-upload]")
    tab.wait_for_selector("[data-testid=import-invalid]")
    assert tab.locator("[data-testid=problem]").count() > 10
    tab.screenshot(path=str(SHOTS / f"import-problems-{width}.png"), full_page=True)
    assert Project.objects.for_organization(world.org).filter(code__startswith="NEW-").count() == 0
    good = "client,name,code,modality,opened_at\n" + "".join(
        f"Bigco Pharma,Programme {i},NEW-{i},biologic,2024-02-0{i}\n" for i in range(1, 4)
    )
    path.write_text(good)
    tab.goto("/import/")
    tab.select_option("select[name=kind]", "projects")
    tab.set_input_files("input[name=file]", str(path))
    tab.click("[data-testid=import-upload]")
    tab.wait_for_selector("[data-testid=import-write]")
    tab.click("[data-testid=import-write]")
    tab.wait_for_selector("[data-testid=import-done]")
    tab.screenshot(path=str(SHOTS / f"import-done-{width}.png"), full_page=True)
    assert Project.objects.for_organization(world.org).filter(code__startswith="NEW-").count() == 3
    job = ImportJob.objects.create(
        organization=world.org,
        kind="touchpoints",
        filename="touchpoints-2019-2024.csv",
        content=b"x",
        status=ImportJobStatus.WRITING,
        row_count=50_000,
        rows_checked=50_000,
        created_by=world.people["am"].user,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    from django.core.cache import cache

    cache.set(import_services._progress_key(job), 31_250)
    tab.goto(f"/import/{job.pk}/")
    tab.wait_for_selector("[data-testid=import-status]")
    tab.screenshot(path=str(SHOTS / f"import-progress-{width}.png"), full_page=True)
    ImportJob.objects.for_organization(world.org).filter(pk=job.pk).update(
        status=ImportJobStatus.DONE, rows_written=50_000
    )
    tab.wait_for_selector("[data-testid=import-done]", timeout=5_000)  # the poll reloads the page
    context.close()
    check(tab, problems)
