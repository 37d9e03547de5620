"""Measure the portal and desk pages on a seeded database (see bench/README.md).

    bench/bench.py --size N [--seed-log FILE]     one size: queries, EXPLAIN, HTTP, JSON + Markdown
    bench/bench.py --summary                      the table of every size in bench/results/

Run by bench/run.sh, which starts the PostgreSQL cluster, creates, migrates and seeds the
database and exports the environment (DATABASE_URL, production settings). Three phases:

1. In-process (Django test client, like the peer's queries.py): each page once as warm-up,
   then the SQL queries of the second request with CaptureQueriesContext; every SELECT on the
   ticket tables is run again under EXPLAIN (ANALYZE, BUFFERS) to find sequential scans of the
   big tables and the slowest statement.
2. HTTP: gunicorn (2 sync workers, production settings) on 127.0.0.1; the customer and the
   agent sign in through the real login form (CSRF token, Secure cookies sent by hand, requests
   marked as HTTPS with X-Forwarded-Proto); per page 20 warm-up + 200 sequential requests
   (p50/p95, bounded by BENCH_PAGE_SECS), then wrk -t2 -c8 (or a bounded thread pool without
   wrk) for the throughput; filing a ticket is 20 + 200 sequential POSTs of the real form.
   Afterwards each worker's peak RSS (VmHWM) is read from /proc, gunicorn is stopped and the
   tickets the benchmark filed are deleted.
3. Results: bench/results/<size>.json and <size>.md, and bench/results/summary.md.

Pages that answer 404 or 500 (not written yet, or broken) are reported with their status and
not measured further. Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

import argparse
import html.parser
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", HERE / "results"))
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_HTTP_PORT", "8102"))
ORIGIN = f"https://{HOST}:{PORT}"
REQS = int(os.environ.get("BENCH_REQS", "200"))
WARM = int(os.environ.get("BENCH_WARM", "20"))
PAGE_SECS = float(os.environ.get("BENCH_PAGE_SECS", "90"))  # cap for one page's sequential run
WRK_SECS = int(os.environ.get("BENCH_WRK_SECS", "15"))
WRK_CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", "8"))
EXPLAIN_TIMEOUT_MS = int(os.environ.get("BENCH_EXPLAIN_TIMEOUT_MS", "60000"))
PORTAL_QUERY = os.environ.get("BENCH_PORTAL_Q", "hydraulic")
DESK_QUERY = os.environ.get("BENCH_DESK_Q", "hydraulic")
DEEP_PAGE = int(os.environ.get("BENCH_DEEP_PAGE", "40"))
POST_SUBJECT = "Bench POST"
BIG_TABLES = ("tickets_ticket", "tickets_message", "tickets_ticketevent")

sys.path.insert(0, str(ROOT))


def log(text):
    print(text, flush=True)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


# ---------------------------------------------------------------------------------------------
# The pages. `who` signs in; the URL may name targets found in the database.


def pages(targets):
    number = targets["ticket_number"]
    pq = urllib.parse.quote(PORTAL_QUERY)
    dq = urllib.parse.quote(DESK_QUERY)
    return [
        ("healthz", "customer", "/healthz"),  # baseline: framework, network and machine noise
        ("portal_dashboard", "customer", "/portal/"),
        ("portal_list", "customer", "/portal/tickets/"),
        ("portal_list_deep", "customer", f"/portal/tickets/?state=all&page={DEEP_PAGE}"),
        ("portal_search", "customer", f"/portal/tickets/?state=all&q={pq}"),
        ("portal_ticket", "customer", f"/portal/tickets/{number}/"),
        # A customer with a few small sites: a plan that walks the whole table's recency
        # index to find its tickets shows here (issue 5: no page may grow with N).
        ("portal_list_small", "small", "/portal/tickets/?state=all"),
        ("portal_list_small_deep", "small", "/portal/tickets/?state=all&page=4"),
        ("portal_file_form", "customer", "/portal/tickets/new/"),
        ("desk_queue", "agent", "/desk/"),
        ("desk_search", "agent", f"/desk/?q={dq}"),
        ("desk_ticket", "agent", f"/desk/tickets/{number}/"),
    ]


POST_PAGE = ("portal_file_post", "customer", "/portal/tickets/new/")


# ---------------------------------------------------------------------------------------------
# The ticket form: read it from the page and fill every field with a valid value.


class FormReader(html.parser.HTMLParser):
    """Fields of the form that holds `marker` (a field name): hidden inputs with their values,
    selects with their options, text inputs and textareas, file inputs."""

    def __init__(self, marker):
        super().__init__()
        self.marker = marker
        self.forms, self.current, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = {
                "hidden": {},
                "selects": {},
                "texts": [],
                "files": [],
                "action": attrs.get("action"),
                "multipart": (attrs.get("enctype") or "").lower() == "multipart/form-data",
            }
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            if kind == "hidden":
                self.current["hidden"][attrs["name"]] = attrs.get("value", "")
            elif kind in {"text", "email", "number", "search"}:
                self.current["texts"].append(attrs["name"])
            elif kind == "file":
                self.current["files"].append(attrs["name"])
        elif tag == "textarea" and attrs.get("name"):
            self.current["texts"].append(attrs["name"])
        elif tag == "select" and attrs.get("name"):
            self.select = attrs["name"]
            self.current["selects"][self.select] = {"options": [], "selected": None}
        elif tag == "option" and self.select is not None:
            value = attrs.get("value", "")
            entry = self.current["selects"][self.select]
            entry["options"].append(value)
            if "selected" in attrs and value:
                entry["selected"] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.current = None

    def form(self):
        for form in self.forms:
            if self.marker in form["texts"] or self.marker in form["selects"]:
                return form
        return None


def ticket_form(page_html):
    """The ticket form of the page as FormReader reads it, or None."""
    reader = FormReader("subject")
    reader.feed(page_html)
    return reader.form()


def ticket_form_data(page_html, index):
    form = ticket_form(page_html)
    if form is None:
        return None
    data = dict(form["hidden"])
    for name, select in form["selects"].items():
        options = [value for value in select["options"] if value]
        if name == "machine" or not options:
            data[name] = ""
        elif name == "priority" and "normal" in options:
            data[name] = "normal"
        else:
            data[name] = select["selected"] or options[0]
    for name in form["texts"]:
        if name == "subject":
            data[name] = f"{POST_SUBJECT} {index}"
        else:
            data[name] = (
                "Benchmark ticket: the hydraulic press loses pressure since this morning. "
                "Please send a technician."
            )
    return data


# ---------------------------------------------------------------------------------------------
# Phase 1: in-process query counts and EXPLAIN.


# What run.sh exports, for the tools that run pages in-process without it (profile_page.py,
# split_page.py): production settings, the benchmark's hosts and static files, persistent
# connections.
IN_PROCESS_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "DJANGO_SECRET_KEY": "bench-not-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_STATIC_ROOT": "/tmp/portal-bench-static",  # noqa: S108 - run.sh's
    "DATABASE_CONN_MAX_AGE": "600",
}


def setup_django():
    for name, value in IN_PROCESS_ENV.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()


def in_process_pages(names, error):
    """For each page of `names` (this module's page names), a function that GETs it once
    through Django's WSGI handler in-process, as gunicorn calls it, signed in as the page's
    benchmark user (the test client only signs in: its template instrumentation would distort
    the figures), and returns the status line and the body. Used by profile_page.py,
    split_page.py and plan_time.py; `error(message)` reports an unknown page name."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client, RequestFactory

    from accounts.models import User

    targets = find_targets()
    known = {name: (who, path) for name, who, path in pages(targets)}
    unknown = [name for name in names if name not in known]
    if unknown:
        error(f"unknown page {unknown[0]}; one of {', '.join(known)}")
    handler, factory = WSGIHandler(), RequestFactory()
    getters = {}
    for name in names:
        who, path = known[name]
        client = Client()
        client.force_login(User.objects.get(email=targets[who]))
        cookie = "; ".join(f"{key}={morsel.value}" for key, morsel in client.cookies.items())

        def get(path=path, cookie=cookie):
            environ = factory.get(path, HTTP_X_FORWARDED_PROTO="https", HTTP_COOKIE=cookie).environ
            status = []
            body = b"".join(
                handler(environ, lambda line, headers, exc_info=None: status.append(line))
            )
            return status[0], body

        get.path = path
        getters[name] = get
    return getters


def find_targets():
    from accounts.models import User
    from tickets.management.commands.seed_bench import (
        AGENT_EMAIL,
        BENCH_PASSWORD,
        CUSTOMER_EMAIL,
    )
    from tickets.models import Ticket

    customer = User.objects.get(email=CUSTOMER_EMAIL)
    agent = User.objects.get(email=AGENT_EMAIL)
    # The ticket the customer most likely opens: the most recently updated one it may see.
    ticket = Ticket.objects.visible_to(customer).order_by("-updated_at", "-pk").first()
    small = small_customer()
    return {
        "customer": CUSTOMER_EMAIL,
        "agent": AGENT_EMAIL,
        "small": small.email,
        "small_visible": Ticket.objects.visible_to(small).count(),
        "password": BENCH_PASSWORD,
        "customer_pk": customer.pk,
        "agent_pk": agent.pk,
        "ticket_number": ticket.number if ticket else 0,
        "tickets_total": Ticket.objects.count(),
        "tickets_open": Ticket.objects.open().count(),
        "customer_visible": Ticket.objects.visible_to(customer).count(),
        "customer_visible_open": Ticket.objects.visible_to(customer).open().count(),
    }


def small_customer():
    """Among the first 200 external users, one with at least two sites and the fewest
    visible tickets (at least 100, so a deep page exists): the small customer."""
    from django.db.models import Count

    from accounts.models import User
    from tickets.models import Ticket

    candidates = (
        User.objects.filter(is_external=True, is_active=True, email__startswith="portal-")
        .annotate(
            sites=Count("read_addresses", distinct=True) + Count("write_addresses", distinct=True)
        )
        .filter(sites__gte=2)
        .order_by("email")[:200]
    )
    sized = [(Ticket.objects.visible_to(user).count(), user.email, user) for user in candidates]
    sized = [entry for entry in sized if entry[0] >= 100]
    return min(sized, key=lambda entry: entry[:2])[2]


def plan_nodes(node):
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


def reads_only(sql):
    """A SELECT, or a WITH … SELECT without a data-modifying part (EXPLAIN ANALYZE runs it)."""
    head = sql.lstrip().upper()
    if head.startswith("SELECT"):
        return True
    return head.startswith("WITH") and not re.search(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", head)


def explain(sql):
    """EXPLAIN ANALYZE one SELECT: its time, the sequential scans of big tables, the plan."""
    from django.db import connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {EXPLAIN_TIMEOUT_MS}")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            data = cursor.fetchone()[0]
            data = json.loads(data) if isinstance(data, str) else data
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            text = "\n".join(row[0] for row in cursor.fetchall())
    except Exception as error:  # noqa: BLE001 - a timeout or a bad statement is reported
        return {"error": str(error).strip()[:300]}
    top = data[0]
    seq = sorted(
        {
            node["Relation Name"]
            for node in plan_nodes(top["Plan"])
            if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in BIG_TABLES
        }
    )
    return {"ms": round(top["Execution Time"], 2), "seq_scans": seq, "plan": text}


def count_queries(targets):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    clients = {}
    for who in ("customer", "agent", "small"):
        client = Client(raise_request_exception=False, HTTP_X_FORWARDED_PROTO="https")
        client.force_login(User.objects.get(email=targets[who]))
        clients[who] = client

    results = {}
    for name, who, url in pages(targets) + [POST_PAGE]:
        client = clients[who]
        if name == "portal_file_post":
            form_page = client.get(url)
            data = (
                ticket_form_data(form_page.content.decode(), "q0")
                if form_page.status_code == 200
                else None
            )
            if data is None:
                results[name] = {"status": form_page.status_code, "queries": None}
                continue
            client.post(url, data)  # warm-up
            data = ticket_form_data(client.get(url).content.decode(), "q1")

            def request(client=client, url=url, data=data):
                return client.post(url, data)
        else:

            def request(client=client, url=url):
                return client.get(url)

        try:
            request()
            with CaptureQueriesContext(connection) as captured:
                response = request()
            status = response.status_code
        except Exception as error:  # noqa: BLE001 - a broken page is a result, not a crash
            results[name] = {"status": "error", "error": repr(error)[:300], "queries": None}
            continue
        statements = [query["sql"] for query in captured.captured_queries]
        entry = {"status": status, "queries": len(statements), "explained": []}
        if status in (200, 302):
            for sql in statements:
                if reads_only(sql) and any(table in sql for table in BIG_TABLES):
                    entry["explained"].append({"sql": sql, **explain(sql)})
            timed = [e for e in entry["explained"] if "ms" in e]
            entry["sql_ms_sum"] = round(sum(e["ms"] for e in timed), 2)
            entry["slowest_sql_ms"] = max((e["ms"] for e in timed), default=None)
            entry["seq_scans"] = sorted({t for e in timed for t in e["seq_scans"]})
            entry["explain_errors"] = [e["error"] for e in entry["explained"] if "error" in e]
        results[name] = entry
        log(
            f"  queries {name:18} HTTP {status}  {len(statements):3} queries"
            + (
                f", seq scans: {','.join(entry.get('seq_scans') or []) or '-'}"
                if "seq_scans" in entry
                else ""
            )
            + (f", slowest {entry['slowest_sql_ms']} ms" if entry.get("slowest_sql_ms") else "")
        )
    return results


def delete_bench_tickets(since):
    from django.db import connection

    from tickets.models import Ticket

    deleted = Ticket.objects.filter(subject__startswith=POST_SUBJECT).delete()[0]
    try:
        from django_tasks_db.models import DBTaskResult

        deleted += DBTaskResult.objects.filter(enqueued_at__gte=since).delete()[0]
    except (ImportError, LookupError, RuntimeError):
        pass
    if deleted and connection.vendor == "postgresql":
        # The filed tickets say "hydraulic" at the benchmark customer's addresses. Deleted, their
        # rows stay in the indexes until a vacuum (which skips the indexes for a few dead rows
        # unless told otherwise): the next run's searches would read 500 dead documents each.
        with connection.cursor() as cursor:
            for table in VACUUMED:
                cursor.execute(f"VACUUM (INDEX_CLEANUP ON) {table}")
    connection.close()
    return deleted


# The tables filing writes to (the search documents only where desk/migrations/0003 made them).
VACUUMED = ("tickets_ticket", "tickets_message", "tickets_ticketevent", "desk_search_document")


# ---------------------------------------------------------------------------------------------
# Phase 2: HTTP.


class Session:
    """Cookies by hand: the production cookies are Secure and we speak plain HTTP to gunicorn,
    marked as HTTPS with X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER)."""

    def __init__(self):
        self.cookies = {}

    def header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method, path, body=None, extra=None):
        headers = {"Host": f"{HOST}:{PORT}", "X-Forwarded-Proto": "https", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = self.header()
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = ORIGIN
            headers["Referer"] = ORIGIN + path
        headers.update(extra or {})
        started = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, PORT, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                if val and val != '""':
                    self.cookies[key.strip()] = val.strip()
                else:
                    self.cookies.pop(key.strip(), None)
        return response.status, content, elapsed, response.getheader("Location")


def multipart_body(fields, empty_files=()):
    """`fields` as a browser posts a form with enctype multipart/form-data: one part per
    field, and for each file input left empty (`empty_files`) the part a browser still sends
    for it (no file name, no content). Returns the body and its Content-Type."""
    boundary = f"----bench{os.urandom(12).hex()}"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    for name in empty_files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename=""\r\n'
            "Content-Type: application/octet-stream\r\n\r\n\r\n"
        )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


def csrf_token(page):
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return match.group(1).decode() if match else None


def sign_in(email, password, next_url):
    session = Session()
    status, page, _, _ = session.request("GET", "/accounts/login/")
    token = csrf_token(page)
    if status != 200 or not token:
        raise RuntimeError(f"login page answered {status} without a CSRF token")
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": password, "next": next_url}
    )
    status, _, elapsed, location = session.request("POST", "/accounts/login/", body=body)
    if status != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"sign-in of {email} failed: HTTP {status}")
    log(f"  signed in {email} through the login form ({elapsed * 1000:.0f} ms, -> {location})")
    return session


def sequential(session, method, path, make_body=None, expect=(200,)):
    """WARM + REQS sequential requests, stopped after PAGE_SECS; times in ms."""
    times, codes, sizes = [], {}, []
    deadline = time.monotonic() + PAGE_SECS
    for i in range(WARM + REQS):
        body, extra = make_body(i) if make_body else (None, None)
        status, content, elapsed, _ = session.request(method, path, body=body, extra=extra)
        codes[status] = codes.get(status, 0) + 1
        if i >= WARM:
            times.append(elapsed * 1000)
            sizes.append(len(content))
        if time.monotonic() > deadline:
            break
    ok = sum(n for code, n in codes.items() if code in expect)
    return {
        "n": len(times),
        "p50_ms": round(percentile(times, 50), 1) if times else None,
        "p95_ms": round(percentile(times, 95), 1) if times else None,
        "mean_ms": round(statistics.fmean(times), 1) if times else None,
        "seq_req_s": round(len(times) / (sum(times) / 1000), 1) if times else None,
        "http": {str(k): v for k, v in sorted(codes.items())},
        "ok": ok,
        "bytes": sizes[-1] if sizes else None,
        "capped": len(times) < REQS,
    }


def throughput(session, path):
    """Requests per second under concurrent load: wrk when installed, else a thread pool."""
    url = f"http://{HOST}:{PORT}{path}"
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run(  # noqa: S603 - fixed arguments, local URL
            [
                wrk,
                "-t2",
                f"-c{WRK_CONNECTIONS}",
                f"-d{WRK_SECS}s",
                "--timeout",
                "30s",
                "-H",
                f"Cookie: {session.header()}",
                "-H",
                "X-Forwarded-Proto: https",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=WRK_SECS + 60,
        ).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        total = re.search(r"(\d+) requests in", out)
        return {
            "tool": f"wrk -t2 -c{WRK_CONNECTIONS} -d{WRK_SECS}s",
            "req_s": float(rps.group(1)) if rps else None,
            "requests": int(total.group(1)) if total else None,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        }
    counts = {"ok": 0, "bad": 0}
    lock = threading.Lock()
    stop = time.monotonic() + WRK_SECS

    def worker():
        while time.monotonic() < stop:
            status, _, _, _ = session.request("GET", path)
            with lock:
                counts["ok" if status == 200 else "bad"] += 1

    threads = [threading.Thread(target=worker) for _ in range(WRK_CONNECTIONS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WRK_SECS + 150)
    elapsed = time.monotonic() - started
    done = counts["ok"] + counts["bad"]
    return {
        "tool": f"python threads x{WRK_CONNECTIONS}, {WRK_SECS}s",
        "req_s": round(done / elapsed, 1),
        "requests": done,
        "non_2xx": counts["bad"],
    }


def worker_memory(master_pid):
    """VmHWM (peak) and VmRSS of each gunicorn worker, in MB."""
    workers = []
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    pids = children.read_text().split() if children.exists() else []
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if not status.exists():
            continue
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        workers.append(
            {
                "pid": int(pid),
                "peak_rss_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
                "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
            }
        )
    return workers


def start_gunicorn(size):
    log_file = RESULTS / f"{size}.gunicorn.log"
    process = subprocess.Popen(  # noqa: S603 - the project's own gunicorn
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "portal.wsgi:application",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"{HOST}:{PORT}",
            "--timeout",
            "120",
            "--error-logfile",
            str(log_file),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    session = Session()
    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_file}")
        try:
            status, _, _, _ = session.request("GET", "/healthz")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(process)
    raise RuntimeError("gunicorn did not answer /healthz within 30 s")


def stop_gunicorn(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def measure_http(size, targets):
    results = {}
    process = start_gunicorn(size)
    try:
        sessions = {
            "customer": sign_in(targets["customer"], targets["password"], "/portal/"),
            "agent": sign_in(targets["agent"], targets["password"], "/desk/"),
            "small": sign_in(targets["small"], targets["password"], "/portal/"),
        }
        for name, who, path in pages(targets):
            session = sessions[who]
            status, content, _, location = session.request("GET", path)
            if status != 200:
                results[name] = {"status": status, "path": path, "location": location}
                log(f"  http    {name:18} HTTP {status}: not measured")
                continue
            load_before = os.getloadavg()[0]
            entry = {"status": status, "path": path, **sequential(session, "GET", path)}
            entry["throughput"] = throughput(session, path)
            entry["load_avg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            results[name] = entry
            log(
                f"  http    {name:18} p50 {entry['p50_ms']} ms, p95 {entry['p95_ms']} ms, "
                f"{entry['throughput']['req_s']} req/s ({entry['n']} sequential"
                + (", capped by time" if entry["capped"] else "")
                + ")"
            )
        results[POST_PAGE[0]] = measure_post(sessions["customer"])
        results["_workers"] = worker_memory(process.pid)
    finally:
        stop_gunicorn(process)
    return results


def measure_post(session):
    name, _who, path = POST_PAGE
    status, page, _, _ = session.request("GET", path)
    form = ticket_form(page.decode()) if status == 200 else None
    data = ticket_form_data(page.decode(), 0) if form is not None else None
    if data is None:
        log(f"  http    {name:18} form page HTTP {status}: not measured")
        return {"status": status, "path": path}

    def body(i):
        """The form as the browser posts it: multipart when the form says so (the ticket form
        does, for its attachments), with the empty part of each file input left empty."""
        fields = {**data, "subject": f"{POST_SUBJECT} {i}"}
        if not form["multipart"]:
            return urllib.parse.urlencode(fields), None
        content, content_type = multipart_body(fields, form["files"])
        return content, {"Content-Type": content_type}

    probe_body, probe_extra = body("probe")
    probe_status, _, _, location = session.request("POST", path, body=probe_body, extra=probe_extra)
    if probe_status != 302:
        log(f"  http    {name:18} POST answered {probe_status}: not measured")
        return {"status": probe_status, "path": path}
    entry = {
        "status": probe_status,
        "path": path,
        "redirect": location,
        "fields": sorted(data),
        "encoding": "multipart/form-data" if form["multipart"] else "urlencoded",
        **sequential(session, "POST", path, make_body=body, expect=(302,)),
    }
    entry["throughput"] = {
        "tool": "sequential POSTs",
        "req_s": entry["seq_req_s"],
        "requests": entry["n"],
        "non_2xx": entry["n"] - entry["ok"] + 0,
    }
    log(
        f"  http    {name:18} p50 {entry['p50_ms']} ms, p95 {entry['p95_ms']} ms, "
        f"{entry['seq_req_s']} posts/s sequential ({entry['ok']} redirected)"
    )
    return entry


# ---------------------------------------------------------------------------------------------
# Phase 3: results.


def machine():
    info = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        meminfo = Path("/proc/meminfo").read_text()
        info["memory_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 2**20, 1)
        cpu = re.search(r"model name\s+:\s+(.+)", Path("/proc/cpuinfo").read_text())
        info["cpu"] = cpu.group(1).strip() if cpu else None
    except (OSError, AttributeError):
        pass
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgresql"] = cursor.fetchone()[0]
        connection.close()
    except Exception:  # noqa: BLE001, S110 - informational only
        pass
    return info


def yardstick():
    """How fast the machine is right now, as two fixed pieces of work: the median of 5 runs of
    a pure-Python loop (one core) and of 200 `SELECT 1` round trips to the benchmark's
    database. The same kind of machine ran 2-3x slower in one session than in another
    (docs/performance.md, sixth pass); runs are comparable only with this beside them."""
    loops = []
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        loops.append((time.perf_counter() - started) * 1000)
    result = {"python_loop_ms": round(statistics.median(loops), 1)}
    from django.db import connection

    trips = []
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            trips.append((time.perf_counter() - started) * 1000)
    result["select_1_ms"] = round(statistics.median(trips), 3)
    return result


def seeding(seed_log):
    if not seed_log or not Path(seed_log).exists():
        return None
    text = Path(seed_log).read_text()
    total = re.search(r"Total: ([\d.]+)s", text)
    made = re.search(r"Made ([\d,]+) tickets, ([\d,]+) messages and ([\d,]+) events", text)
    return {
        "seconds": float(total.group(1)) if total else None,
        "tickets": int(made.group(1).replace(",", "")) if made else None,
        "messages": int(made.group(2).replace(",", "")) if made else None,
        "events": int(made.group(3).replace(",", "")) if made else None,
        "log": str(Path(seed_log).relative_to(ROOT))
        if Path(seed_log).is_relative_to(ROOT)
        else seed_log,
    }


def row(name, queries, http_result):
    q = queries.get(name, {})
    h = http_result.get(name, {})
    status = h.get("status", q.get("status"))
    tp = h.get("throughput") or {}
    return {
        "page": name,
        "status": status,
        "p50_ms": h.get("p50_ms"),
        "p95_ms": h.get("p95_ms"),
        "req_s": tp.get("req_s"),
        "queries": q.get("queries"),
        "seq_scans": q.get("seq_scans"),
        "slowest_sql_ms": q.get("slowest_sql_ms"),
        "bytes": h.get("bytes"),
    }


def _cell(value):
    return "—" if value is None else str(value)


def _seq_cell(scans):
    if scans is None:
        return "—"
    return ", ".join(table.removeprefix("tickets_") for table in scans) or "none"


def markdown(result):
    targets = result["targets"]
    lines = [
        f"### {result['size']:,} tickets — {result['date']}",
        "",
        f"Customer `{targets['customer']}` sees {targets['customer_visible']:,} tickets "
        f"({targets['customer_visible_open']:,} open); {targets['tickets_open']:,} of "
        f"{targets['tickets_total']:,} tickets are open.",
        "",
        "| page | HTTP | p50 ms | p95 ms | req/s | queries | seq scan of big tables "
        "| slowest SQL ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["rows"]:
        cells = [r["page"], r["status"], r["p50_ms"], r["p95_ms"], r["req_s"], r["queries"]]
        cells = [_cell(value) for value in cells]
        cells += [_seq_cell(r["seq_scans"]), _cell(r["slowest_sql_ms"])]
        lines.append("| " + " | ".join(cells) + " |")
    loads = [
        value
        for entry in result["http"].values()
        if isinstance(entry, dict)
        for value in entry.get("load_avg_1m", [])
    ]
    if loads:
        lines += [
            "",
            f"Load average (1 min) while measuring: {min(loads)}–{max(loads)} on "
            f"{result['machine']['nproc']} cores (the benchmark itself keeps about 2 busy).",
        ]
    speed = result.get("yardstick") or {}
    if speed.get("start") and speed.get("end"):
        start, end = speed["start"], speed["end"]
        lines += [
            "",
            f"Machine yardstick (start / end of the run): Python loop {start['python_loop_ms']} / "
            f"{end['python_loop_ms']} ms, `SELECT 1` round trip {start['select_1_ms']} / "
            f"{end['select_1_ms']} ms (`bench.yardstick`; compare runs by it).",
        ]
    workers = result.get("workers") or []
    if workers:
        peaks = ", ".join(f"{w['peak_rss_mb']} MB" for w in workers)
        lines += ["", f"Gunicorn workers' peak RSS (VmHWM) after the run: {peaks}."]
    if result.get("seeding"):
        lines += ["", f"Seeding: {result['seeding']['seconds']} s (`{result['seeding']['log']}`)."]
    return "\n".join(lines) + "\n"


# Issue 5: from the smallest to the largest size, each page's p50 grows by less than this.
GROWTH_BOUND = 2.0


def growth(results):
    """{page: p50 at the largest size / p50 at the smallest}, for the pages measured (HTTP
    200 or 302, with a p50) at both; `results` as the per-size JSON files hold them."""
    if len(results) < 2:
        return {}
    ordered = sorted(results, key=lambda result: result["size"])

    def p50s(result):
        return {row["page"]: row["p50_ms"] for row in result["rows"] if row["p50_ms"]}

    smallest, largest = p50s(ordered[0]), p50s(ordered[-1])
    return {page: round(largest[page] / smallest[page], 2) for page in smallest if page in largest}


def summary_lines(results):
    """The lines of summary.md for `results` (one per size, as the JSON files hold them)."""
    results = sorted(results, key=lambda result: result["size"])
    names = []
    for result in results:
        for r in result["rows"]:
            if r["page"] not in names:
                names.append(r["page"])
    sizes = [result["size"] for result in results]
    ratios = growth(results)
    growth_header = [f"p50 growth {sizes[0]:,} → {sizes[-1]:,}"] if len(sizes) > 1 else []
    lines = [
        "# Benchmark summary",
        "",
        "p50 / p95 ms, req/s and queries per page; `404`/`500` = page missing or broken. "
        "Details per size in `<size>.md` and `<size>.json`."
        + (
            f" Growth: the p50 at the largest size over the p50 at the smallest (issue 5: less "
            f"than {GROWTH_BOUND:g}×; **over** marks a page that is not)."
            if growth_header
            else ""
        ),
        "",
        "| page | " + " | ".join([*(f"{s:,}" for s in sizes), *growth_header]) + " |",
        "| --- | " + " | ".join("---" for _ in [*sizes, *growth_header]) + " |",
    ]
    for name in names:
        cells = []
        for result in results:
            r = next((r for r in result["rows"] if r["page"] == name), None)
            if r is None:
                cells.append("—")
            elif r["p50_ms"] is None:
                cells.append(f"HTTP {r['status']}")
            else:
                cells.append(
                    f"{r['p50_ms']} / {r['p95_ms']} ms, {r['req_s']} req/s, {r['queries']} q"
                )
        if growth_header:
            ratio = ratios.get(name)
            if ratio is None:
                cells.append("—")
            else:
                cells.append(f"**{ratio}× over**" if ratio >= GROWTH_BOUND else f"{ratio}×")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "| seeding s | "
        + " | ".join(str((result.get("seeding") or {}).get("seconds", "—")) for result in results)
        + " |"
    )
    lines.append(
        "| worker peak RSS MB | "
        + " | ".join(
            ", ".join(str(w["peak_rss_mb"]) for w in result.get("workers") or []) or "—"
            for result in results
        )
        + " |"
    )
    return lines


def summary():
    files = [path for path in RESULTS.glob("*.json") if path.stem.isdigit()]
    results = [json.loads(path.read_text()) for path in files]
    if not results:
        log("no results yet")
        return
    (RESULTS / "summary.md").write_text("\n".join(summary_lines(results)) + "\n")
    log((RESULTS / "summary.md").read_text())


def run(size, seed_log):
    RESULTS.mkdir(parents=True, exist_ok=True)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    # Collected now, not once per run.sh: the manifest storage answers 500 for any static file
    # added to the tree since the last collectstatic.
    call_command("collectstatic", interactive=False, verbosity=0)
    started = datetime.now(UTC)
    speed = {"start": yardstick()}
    log(f"== {size:,} tickets: machine yardstick at the start: {speed['start']}")
    log(f"== {size:,} tickets: targets and query counts (in-process)")
    targets = find_targets()
    if targets["tickets_total"] < 1:
        raise SystemExit("the database has no tickets: run seed_bench first")
    queries = count_queries(targets)
    delete_bench_tickets(started)
    connection.close()

    log(f"== {size:,} tickets: HTTP on {HOST}:{PORT} (gunicorn, 2 sync workers)")
    try:
        http_result = measure_http(size, targets)
    finally:
        deleted = delete_bench_tickets(started)
        log(f"  deleted {deleted} rows the benchmark created (tickets and their tasks)")
    speed["end"] = yardstick()
    log(f"== {size:,} tickets: machine yardstick at the end: {speed['end']}")

    names = [name for name, _who, _url in pages(targets)] + [POST_PAGE[0]]
    result = {
        "size": size,
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "yardstick": speed,
        "settings": {
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE"),
            "gunicorn": "2 sync workers",
            "sequential": f"{WARM} warm-up + {REQS} requests, at most {PAGE_SECS:.0f} s a page",
            "concurrent": f"wrk -t2 -c{WRK_CONNECTIONS} -d{WRK_SECS}s"
            if shutil.which("wrk")
            else f"python threads x{WRK_CONNECTIONS}, {WRK_SECS}s",
            "portal_query": PORTAL_QUERY,
            "desk_query": DESK_QUERY,
        },
        "seeding": seeding(seed_log),
        "targets": {k: v for k, v in targets.items() if k != "password"},
        "rows": [row(name, queries, http_result) for name in names],
        "workers": http_result.get("_workers"),
        "queries": queries,
        "http": {k: v for k, v in http_result.items() if not k.startswith("_")},
    }
    (RESULTS / f"{size}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    plans = []
    for name in names:
        for e in (queries.get(name) or {}).get("explained", []):
            if "plan" in e:
                plans.append(
                    f"-- {name}: {e['ms']} ms, seq scans: {e['seq_scans'] or 'none'}\n"
                    f"{e['sql']}\n{e['plan']}\n"
                )
    (RESULTS / f"{size}.plans.txt").write_text("\n".join(plans))
    (RESULTS / f"{size}.md").write_text(markdown(result))
    log("")
    log(markdown(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int)
    parser.add_argument("--seed-log")
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    if args.size:
        run(args.size, args.seed_log)
    if args.summary:
        summary()
    if not args.size and not args.summary:
        parser.error("give --size N and/or --summary")


if __name__ == "__main__":
    main()
