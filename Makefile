# make run   - set up (venv, packages, database), seed a demo member, serve on 127.0.0.1:8000
# make test  - set up, run the test suite (on DATABASE_URL when set, else SQLite)
# make lint  - ruff, import-linter contracts, missing migrations
# make serve - production settings under gunicorn on 127.0.0.1:8000 (needs SECRET_KEY)
# make bench - the performance figures (BENCH_ARGS="--posts 3000000 --json bench.json")
# make load  - the same bounded load against one server and the cluster (LOAD_ARGS to change it)
# make throughput - requests/s of each page beside a static file (wrk, production server)
# make worker - a Celery worker for the home-feed fan-out (needs CELERY_BROKER_URL)
# make cluster - nginx, app servers, MariaDB primary + replica, Redis, RabbitMQ, workers,
#                an SMTP stand-in and Prometheus with its exporters, all under supervisord,
#                on loopback (CLUSTER_APPS=3; CLUSTER_HOSTS=spread: a loopback address per
#                tier); again: starts what is down
# make cluster-status / cluster-stop - each part's state, pid, replica lag, the alerts
#                firing / stop all
# make cluster-pid ROLE=app-1 - a part's pid
# make drill - break each part of the running cluster under load, time its return by itself
#              and its alert; exit 1 if anything is lost or a part or alert does not come and go
# make lab   - every lab at LAB_SIZE (small; full = the notes' scale) into lab-report/

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint serve worker bench throughput load cluster cluster-status cluster-stop \
	cluster-pid drill lab system-deps cluster-deps browser-deps clean

run: $(INSTALLED)
	$(BIN)/python manage.py migrate
	$(BIN)/python manage.py seed_demo
	@echo; echo "Open http://127.0.0.1:8000/ — log in as demo@example.com / demo-password (also for /admin/)"; echo
	@# migrate has run the checks; without them and the production warning the
	@# banner stays short under the line above.
	DJANGO_RUNSERVER_HIDE_WARNING=true $(BIN)/python manage.py runserver --skip-checks 127.0.0.1:8000

# Consumes every queue the project uses; --beat runs the outbox sweeper every
# OUTBOX_SWEEP_SECONDS (run one worker with --beat; more workers without it).
worker: $(INSTALLED)
	@test -n "$$CELERY_BROKER_URL" || grep -qs '^CELERY_BROKER_URL=' .env || { \
		echo "make worker needs CELERY_BROKER_URL, e.g."; \
		echo "  export CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672//"; \
		echo "(without it the site runs tasks in-process and needs no worker)"; \
		exit 1; }
	$(BIN)/celery -A config worker --beat --loglevel INFO $(WORKER_ARGS)

test: $(INSTALLED) browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

# DEBUG off, the secret from the environment (or .env), hashed and compressed static
# files, gunicorn with threads (config/gunicorn.py). Plain HTTP on loopback (HTTPS=0);
# behind a TLS proxy set HTTPS=1.
serve: export DEBUG = 0
serve: export HTTPS ?= 0
serve: export CONN_MAX_AGE ?= 60
serve: export WEB_CONCURRENCY ?= 3
serve: export ALLOWED_HOSTS ?= 127.0.0.1,localhost
serve: $(INSTALLED)
	@test -n "$$SECRET_KEY" || grep -qs '^SECRET_KEY=' .env || { \
		echo "make serve needs a SECRET_KEY in the environment or in .env, e.g."; \
		echo "  export SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
		exit 1; }
	$(BIN)/python manage.py migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn -c config/gunicorn.py config.wsgi

# Production-like: DEBUG off, static files collected; on DATABASE_URL (default SQLite).
bench: $(INSTALLED)
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-bench-only} $(BIN)/python manage.py migrate -v0
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-bench-only} $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-bench-only} $(BIN)/python manage.py bench $(BENCH_ARGS)

# Every lab at LAB_SIZE (small: minutes on 2 cores; full: 3.7M posts, the notes' scale) on
# DATABASE_URL, or on a lab database of its own (lab-db.sqlite3), never the demo's db.sqlite3;
# writes lab-report/README.md with every table and chart. It removes what it seeded.
LAB_SIZE ?= small
lab: export DEBUG = 0
lab: export SECRET_KEY ?= lab-only
lab: export DATABASE_URL ?= sqlite:///$(CURDIR)/lab-db.sqlite3
lab: $(INSTALLED)
	$(BIN)/python manage.py migrate -v0
	$(BIN)/python manage.py lab_report --size $(LAB_SIZE) --out lab-report $(LAB_ARGS)

# wrk against a static file and each page, on the production server over DATABASE_URL.
throughput: $(INSTALLED)
	@command -v wrk >/dev/null || { missing=" wrk"; $(APT_INSTALL); }
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-throughput-only} $(BIN)/python manage.py migrate -v0
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-throughput-only} $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-throughput-only} $(BIN)/python manage.py throughput $(THROUGHPUT_ARGS)

# 20 users for 60 s against http://127.0.0.1:8000, then the summary (see README).
# 20 users for 60 s against one server (what make serve starts) and then the cluster,
# both over the cluster's primary database (see README and docs/scaling.md).
load: $(INSTALLED)
	$(BIN)/python loadtest/compare.py $(LOAD_ARGS)

cluster: $(INSTALLED) cluster-deps
	$(BIN)/python deploy/cluster.py up

cluster-status:
	@$(PYTHON) deploy/cluster.py status

cluster-stop:
	@$(PYTHON) deploy/cluster.py stop

cluster-pid:
	@$(PYTHON) deploy/cluster.py pid $(ROLE)

# The drill's own checks read the cluster's databases: its environment, .cluster/env.
drill: cluster
	set -a; . .cluster/env; set +a; $(BIN)/python manage.py drill $(DRILL_ARGS)

$(INSTALLED): requirements.txt
	@$(MAKE) --no-print-directory system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Install missing Debian packages ($$missing) with apt-get, or say what to install.
APT_INSTALL = \
	if ! command -v apt-get >/dev/null; then \
		echo "Missing system packages:$$missing - install them with your package manager and run make again." >&2; \
		exit 1; \
	fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	echo "Installing system packages:$$missing"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing

# mysqlclient compiles against the MariaDB/MySQL client library.
system-deps:
	@missing=""; \
	{ pkg-config --exists libmariadb || pkg-config --exists mysqlclient; } 2>/dev/null \
		|| missing="$$missing pkg-config libmariadb-dev"; \
	command -v gcc >/dev/null || missing="$$missing gcc"; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	$(PYTHON) -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
		|| missing="$$missing python3-dev"; \
	[ -z "$$missing" ] || { $(APT_INSTALL); }

# The engines of the cluster, from the machine's packages.
cluster-deps:
	@missing=""; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -x /usr/sbin/mariadbd ] || missing="$$missing mariadb-server"; \
	command -v mariadb >/dev/null || missing="$$missing mariadb-client"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing="$$missing rabbitmq-server"; \
	command -v supervisord >/dev/null || missing="$$missing supervisor"; \
	command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	for exporter in mysqld redis nginx; do \
		command -v prometheus-$$exporter-exporter >/dev/null \
			|| missing="$$missing prometheus-$$exporter-exporter"; \
	done; \
	[ -z "$$missing" ] || { $(APT_INSTALL); }

# The browser tests drive Debian's Chromium (Playwright cannot download one here);
# Korean fonts make the Korean screenshots readable, the colour emoji font the emoji.
browser-deps:
	@missing=""; \
	[ -x "$${CHROMIUM:-/usr/bin/chromium}" ] || missing="$$missing chromium"; \
	{ fc-list :lang=ko 2>/dev/null | grep -q . || ls /usr/share/fonts/opentype/noto/NotoSansCJK* ; } >/dev/null 2>&1 \
		|| missing="$$missing fonts-noto-cjk"; \
	ls /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf >/dev/null 2>&1 \
		|| missing="$$missing fonts-noto-color-emoji"; \
	[ -z "$$missing" ] || { $(APT_INSTALL); }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles screenshots
