"""gunicorn's settings for `make serve` (gunicorn -c config/gunicorn.py config.wsgi).

Threads, not one process per connection: a sync worker is held by a client that
stops half-way through its headers until the 30 s worker timeout kills it, so
three such clients stalled five workers. A gthread worker waits for a new
connection's first bytes in its event loop, without a thread, and has a pool of
threads for the rest: a few slow clients cost a few threads while the others
answer. The trade-off: a client that trickles bytes still holds a thread, so
WORKERS x THREADS slow clients could fill them all. On the open internet, put a
buffering proxy (nginx, which reads whole requests before passing them on) in
front; it is also the TLS proxy that HTTPS=1 expects.
"""

import multiprocessing
import os
from pathlib import Path

bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() + 1, 5)))
threads = int(os.environ.get("THREADS", 8))
# The page cache must be one for all workers: with no CACHE_URL, a directory they share.
os.environ.setdefault(
    "CACHE_URL", f"filecache://{Path(__file__).resolve().parent.parent / '.cache' / 'django'}"
)
# A request never waits on the database longer than DB_TIMEOUT (3 s); 30 s only
# catches a worker that is stuck for another reason.
timeout = 30
graceful_timeout = 10
keepalive = 5
# Headers: the defaults (8 KB a line, 100 fields) refuse giants before Django sees them.
limit_request_line = 8190
limit_request_field_size = 8190
accesslog = "-"
capture_output = True
# No control socket: its default path is one per user, so every gunicorn on the host
# (the tests start their own) would take it over from the others.
control_socket_disable = True
# One line a request: who, what, status, bytes, time in ms, and the request id
# (nginx's, or the one Django made) to find the request's lines in the other logs.
access_log_format = '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'


# Metrics from every worker: with PROMETHEUS_MULTIPROC_DIR set, each worker writes
# its counters to files there and /metrics adds them up. The files of a previous
# run would be added too, so the master empties the directory once at start.
def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
