"""Two API replicas behind a real load balancer, as production scales them: two `matchmaker
api` and two `matchmaker worker` processes on one PostgreSQL database and one Temporal server,
behind Debian's haproxy on loopback, round robin, so that consecutive requests reach the two
replicas in turn. Nothing a request needs from an earlier one may live in one replica's
memory:

- a console import: the upload checked on one replica, started on the other, its progress
  read on both while the first one runs it;
- partner answers given at the links of the emails, each page shown by one replica and its
  form taken by the other;
- a bulk action from the console, previewed on one replica and applied on the other;
- failed console sign-ins and failed API keys: the limit is as strict as on one replica (the
  first attempt past it is refused whichever replica takes it), not twice as loose.

haproxy adds an ``X-Served-By`` header (the replica's name) to every answer."""

import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import httpx
import pytest

from domain.access import Role
from domain.imports import ImportRow
from domain.model import ExpressionOfInterest
from infra.keys import mint_key
from services import access, console_auth
from services.imports import validate
from store.engine import make_engine, make_sessionmaker
from tests.reliability.harness import Api, Proc, TemporalServer, Worker, matchmaker_env
from tests.support import (
    EXAMPLES,
    PostgresServer,
    RecordingHandler,
    migrated_postgres,
    smtp_server,
    wait_for,
)
from workers.ports import free_port

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
UPLOAD_ID = re.compile(r'action="/console/import/([^/"]+)/start"')
IDEMPOTENCY_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def haproxy_binary() -> str:
    """Debian's haproxy (apt-get install haproxy); skipped without it, except in CI."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        reason = "haproxy is not installed (apt-get install haproxy): no load balancer to test"
        if os.environ.get("CI"):
            pytest.fail(reason + "; .ci/run installs Debian's haproxy")
        pytest.skip(reason)
    return found


HAPROXY_CONFIG = """\
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend matchmaker
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend replicas

backend replicas
    balance roundrobin
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


class Balancer(Proc):
    """haproxy in the foreground (``-db``) over the replicas, its config in the test's dir."""

    def __init__(self, workdir: Path, port: int, replicas: dict[str, int]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{port}" for name, port in replicas.items()
        )
        config = workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        argv = [haproxy_binary(), "-db", "-f", str(config)]
        super().__init__(
            "haproxy", argv, env=dict(os.environ), cwd=workdir, log=workdir / "haproxy.log"
        )

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:

            async def answering() -> bool:
                self.check_alive()
                try:
                    return (await http.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_for(answering, timeout=30, interval=0.2)


@dataclass
class Replicas:
    balancer: Balancer
    apis: list[Api]
    mail: RecordingHandler
    database_url: str
    admin_key: str
    processes: list[Proc]
    served: list[tuple[str, str, int]] = field(default_factory=list)  # (request, replica, status)

    def client(self) -> httpx.AsyncClient:
        """A browser through the balancer: it keeps cookies and records who served what."""

        async def record(response: httpx.Response) -> None:
            request = f"{response.request.method} {response.request.url.path}"
            self.served.append((request, response.headers["X-Served-By"], response.status_code))

        return httpx.AsyncClient(
            base_url=self.balancer.url, timeout=60, event_hooks={"response": [record]}
        )

    def since(self, mark: int) -> list[tuple[str, str, int]]:
        return self.served[mark:]

    def tails(self) -> str:
        """The last lines of every process's log, to read when the test fails."""
        return "\n".join(f"---- {p.name} ({p.log}):\n{p.tail(2000)}" for p in self.processes)


@pytest.fixture
async def replicas(tmp_path: Path, postgres: PostgresServer) -> AsyncIterator[Replicas]:
    haproxy_binary()  # skip (or fail in CI) before starting anything
    database_url = await migrated_postgres(postgres)
    temporal = TemporalServer(tmp_path).start()
    processes: list[Proc] = [temporal]
    with smtp_server() as (mail, smtp_port):
        try:
            await temporal.ready()
            balancer_port = free_port()
            env = matchmaker_env(
                temporal_target=temporal.target,
                task_queue=f"replicas-{uuid.uuid4().hex[:8]}",
                database_url=database_url,
                smtp_port=smtp_port,
                trusted_proxies="127.0.0.1",  # haproxy says who the client is
                api_graceful_shutdown_seconds=1,
                # every emailed link leads through the balancer
                public_base_url=f"http://127.0.0.1:{balancer_port}",
            )
            workers = [Worker(tmp_path, env, name=f"worker-{n}") for n in (1, 2)]
            apis = [Api(tmp_path, env, name=f"api-{n}") for n in (1, 2)]
            balancer = Balancer(tmp_path, balancer_port, {api.name: api.port for api in apis})
            for proc in [*workers, *apis]:
                processes.append(proc.start())
            for proc in [*workers, *apis]:
                await proc.ready()
            processes.append(balancer.start())
            await balancer.ready()
            yield Replicas(
                balancer=balancer,
                apis=apis,
                mail=mail,
                database_url=database_url,
                admin_key=apis[0].headers["Authorization"],
                processes=processes,
            )
        finally:
            for proc in reversed(processes):
                await proc.astop(timeout=10)


async def _staff_user(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        email = f"staff-{uuid.uuid4().hex[:8]}@ssn4psi.org"
        await access.add_user(sessions, email=email, name="Ana Diaz", role=Role.STAFF)
        await console_auth.set_password(sessions, email=email, password=PASSWORD)
        return email
    finally:
        await engine.dispose()


async def _sign_in(browser: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await browser.get("/console/sign-in")
    token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    return await browser.post(
        "/console/sign-in",
        data={"email": email, "password": password, "csrf": token, "next": "/console"},
    )


def _subject(message: Message) -> str:
    return re.sub(r"\r?\n\s+", " ", str(message["Subject"]))


def _both_served(calls: list[tuple[str, str, int]]) -> None:
    replicas = Counter(replica for _, replica, _ in calls)
    assert set(replicas) == {"api-1", "api-2"}, calls


async def test_two_replicas_behind_a_balancer_share_everything_a_request_needs(replicas):
    email = await _staff_user(replicas.database_url)
    try:
        async with replicas.client() as browser:
            csrf, rows = await _console_import(replicas, browser, email)
            # BK24-001 is a new match (the others are under way): both its partners are asked
            eoi = next(r.eoi for r in rows if r.eoi.id == "BK24-001")
            await _partner_answers(replicas, browser, eoi)
            await _bulk_pause(replicas, browser, csrf, [r.eoi.match_id for r in rows])
            await _failed_sign_ins(replicas, browser, email)
            await _failed_api_keys(replicas, browser)
    except BaseException:
        print(replicas.tails())  # noqa: T201 - shown with the failure
        raise


async def _console_import(
    replicas: Replicas, browser: httpx.AsyncClient, email: str
) -> tuple[str, list[ImportRow]]:
    """Sign in, check a workshop, start it, follow its progress to the summary; the CSRF
    token of the session and the file's rows."""
    mark = len(replicas.served)
    signed_in = await _sign_in(browser, email, PASSWORD)  # form on one, sign-in on the other
    assert signed_in.status_code == 303, signed_in.text
    csrf = CSRF.search((await browser.get("/console")).text).group(1)  # type: ignore[union-attr]
    data = (EXAMPLES / "workshop-2024.csv").read_bytes()
    checked = await browser.post(
        "/console/import/check",
        data={"csrf": csrf},
        files={"file": ("bangkok.csv", data, "text/csv")},
    )
    assert checked.status_code == 200 and "All 4 rows are valid" in checked.text
    upload_id = UPLOAD_ID.search(checked.text).group(1)  # type: ignore[union-attr]
    started = await browser.post(f"/console/import/{upload_id}/start", data={"csrf": csrf})
    assert started.status_code == 303, started.text
    progress = await browser.get(started.headers["location"])
    assert progress.status_code == 200 and "<progress" in progress.text
    check_by, start_by, progress_by = (replica for _, replica, _ in replicas.served[-3:])
    assert check_by != start_by != progress_by  # each step on the other replica

    async def summed_up() -> str | None:
        page = await browser.get(
            f"/console/import/{upload_id}", headers={"HX-Request": "true", "HX-Target": "progress"}
        )
        assert page.status_code == 200, page.text
        return page.text if "Summary" in page.text else None

    summary = await wait_for(summed_up, timeout=60, interval=0.3)
    assert re.search(r"<dt>Started</dt><dd>4</dd>", summary)
    assert await summed_up()  # the other replica shows the summary too
    _both_served(replicas.since(mark))
    return csrf, validate(data).rows


async def _partner_answers(
    replicas: Replicas, browser: httpx.AsyncClient, eoi: ExpressionOfInterest
) -> None:
    """Both partners answer at the links of their emails; the match moves on."""
    mark = len(replicas.served)
    link = re.compile(re.escape(replicas.balancer.url) + r"(/respond/[A-Za-z0-9_.\-]+)")
    adopter = {"decision": "confirm", "needs": "kiosks", "exchange": "field_visit"}
    answers = [
        (eoi.adopter.contact.email, "please confirm", adopter),
        (eoi.solution.contact.email, "will you share it", {"decision": "accept"}),
    ]
    for address, subject, form in answers:
        mails = await wait_for(
            lambda a=address, s=subject: [m for m in replicas.mail.to(a) if s in _subject(m)],
            timeout=60,
        )
        body = mails[-1].get_payload()[0].get_payload(decode=True).decode()
        path = link.search(body).group(1)  # type: ignore[union-attr]
        shown = await browser.get(path)
        assert shown.status_code == 200, shown.text
        token = CSRF.search(shown.text).group(1)  # type: ignore[union-attr]
        sent = await browser.post(path, data={"csrf": token, **form})
        assert sent.status_code == 200 and "your answer is recorded" in sent.text, sent.text
        shown_by, taken_by = (replica for _, replica, _ in replicas.served[-2:])
        assert shown_by != taken_by
    _both_served(replicas.since(mark))
    headers = {"Authorization": replicas.admin_key}

    async def moved_on() -> bool:
        match = (await browser.get(f"/api/matches/{eoi.match_id}", headers=headers)).json()
        return match["stage"] != "follow_up"

    await wait_for(moved_on, timeout=60, interval=0.3)


async def _bulk_pause(
    replicas: Replicas, browser: httpx.AsyncClient, csrf: str, match_ids: list[str]
) -> None:
    """Pause the workshop's matches from the console: previewed, then applied."""
    mark = len(replicas.served)
    action = {"csrf": csrf, "action": "pause", "reason": "elections"}
    preview = await browser.post(
        "/console/bulk/preview",
        data={**action, "filter.workshop_id": "ws-2024-bangkok", "scope": "all"},
    )
    assert preview.status_code == 200, preview.text
    assert "would apply it to <strong>4</strong>" in preview.text
    key = IDEMPOTENCY_KEY.search(preview.text).group(1)  # type: ignore[union-attr]
    done = await browser.post(
        "/console/bulk/apply",
        data={**action, "idempotency_key": key, "match_ids": " ".join(match_ids)},
    )
    assert done.status_code == 200 and "<dt>Applied</dt><dd>4</dd>" in done.text, done.text
    _both_served(replicas.since(mark))


async def _failed_sign_ins(replicas: Replicas, browser: httpx.AsyncClient, email: str) -> None:
    """The first sign-in past the limit is refused, and the next, on either replica."""
    mark = len(replicas.served)
    browser.cookies.clear()
    limit = 5  # MATCHMAKER_CONSOLE_SIGN_IN_FAILURES_PER_MINUTE's default
    page = await browser.get("/console/sign-in")
    statuses = []
    # each try sent from the page the last one answered, as a person retyping does: the posts
    # alternate between the replicas
    for password in ["not the password"] * (limit + 1) + [PASSWORD]:
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        page = await browser.post(
            "/console/sign-in",
            data={"email": email, "password": password, "csrf": token, "next": "/console"},
        )
        statuses.append(page.status_code)
    assert statuses == [401] * limit + [429, 429]  # the 6th refused, and the password too
    assert 0 < int(page.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins just now" in page.text
    posts = [call for call in replicas.since(mark) if call[0] == "POST /console/sign-in"]
    assert {replica for _, replica, _ in posts[-2:]} == {"api-1", "api-2"}
    _both_served(posts[:limit])


async def _failed_api_keys(replicas: Replicas, browser: httpx.AsyncClient) -> None:
    """Ten wrong API keys, then the address is refused on either replica, a good key too."""
    mark = len(replicas.served)
    wrong = {"Authorization": f"Bearer {mint_key().token}"}
    for _ in range(10):  # MATCHMAKER_API_AUTH_FAILURES_PER_MINUTE's default
        assert (await browser.get("/api/matches", headers=wrong)).status_code == 401
    good = {"Authorization": replicas.admin_key}
    for _ in range(2):  # the address is refused before its key is read
        refused = await browser.get("/api/matches", headers=good)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    calls = replicas.since(mark)
    assert {replica for _, replica, _ in calls[-2:]} == {"api-1", "api-2"}
    _both_served(calls[:10])
