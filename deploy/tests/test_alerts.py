"""The alert rules (deploy/alerts.yml) against made-up series, with Prometheus' own
`promtool test rules`: each threshold on both sides."""

import re
import shutil
import subprocess
import textwrap

import pytest

from deploy import cluster

pytestmark = pytest.mark.skipif(
    not shutil.which("promtool"), reason="needs Debian's prometheus (make cluster-deps)"
)


def promtool_test(tmp_path, tests: str) -> subprocess.CompletedProcess:
    # The annotations are for people; the tests compare the labels of what fires.
    rules = re.sub(r"\n +annotations:\n(?: +(?:summary|why): .*\n)+", "\n", cluster.alert_rules())
    (tmp_path / "alerts.yml").write_text(rules)
    (tmp_path / "test.yml").write_text(
        "rule_files: [alerts.yml]\nevaluation_interval: 1s\ntests:\n"
        + textwrap.indent(textwrap.dedent(tests), "  ")
    )
    return subprocess.run(
        ["promtool", "test", "rules", str(tmp_path / "test.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_passes(tmp_path, tests: str) -> None:
    result = promtool_test(tmp_path, tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_load(tmp_path):
    (tmp_path / "alerts.yml").write_text(cluster.alert_rules())
    result = subprocess.run(
        ["promtool", "check", "rules", str(tmp_path / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 rules found" in result.stdout


def test_replica_lag_fires_past_the_routers_threshold_only(tmp_path):
    assert cluster.REPLICA_MAX_LAG == 5
    assert_passes(
        tmp_path,
        """
        - interval: 1s
          input_series:
            - series: 'mysql_slave_status_seconds_behind_master{instance="replica", job="mysql"}'
              values: '5x20 6x20'
          alert_rule_test:
            - eval_time: 20s
              alertname: ReplicaLagging
              exp_alerts: []
            - eval_time: 24s
              alertname: ReplicaLagging
              exp_alerts: []
            - eval_time: 27s
              alertname: ReplicaLagging
              exp_alerts:
                - exp_labels: {severity: ticket, instance: replica, job: mysql}
        """,
    )


def test_an_app_server_is_down_after_five_seconds_of_failed_scrapes(tmp_path):
    # Down for 4 s (t = 6..9), up again, then down from t = 16 on.
    assert_passes(
        tmp_path,
        """
        - interval: 1s
          input_series:
            - series: 'up{job="app", instance="app-1"}'
              values: '1x5 0x3 1x5 0x10'
          alert_rule_test:
            - eval_time: 9s
              alertname: AppServerDown
              exp_alerts: []
            - eval_time: 20s
              alertname: AppServerDown
              exp_alerts: []
            - eval_time: 22s
              alertname: AppServerDown
              exp_alerts:
                - exp_labels: {severity: page, job: app, instance: app-1}
        """,
    )


def test_a_restart_fires_for_twenty_seconds(tmp_path):
    assert_passes(
        tmp_path,
        """
        - interval: 1s
          input_series:
            - series: 'redis_uptime_in_seconds{job="redis", instance="redis"}'
              values: '100+1x10 0+1x40'
          alert_rule_test:
            - eval_time: 10s
              alertname: PartRestarted
              exp_alerts: []
            - eval_time: 12s
              alertname: PartRestarted
              exp_alerts:
                - exp_labels: {severity: ticket, instance: redis}
            - eval_time: 40s
              alertname: PartRestarted
              exp_alerts: []
        """,
    )


def test_workers_missing_below_the_count_started(tmp_path):
    assert cluster.WORKERS == 2
    assert_passes(
        tmp_path,
        """
        - interval: 1s
          input_series:
            - series: 'sns_queue_consumers{job="backlog", instance="app-1", queue="celery"}'
              values: '2x5 1x5'
          alert_rule_test:
            - eval_time: 5s
              alertname: WorkersMissing
              exp_alerts: []
            - eval_time: 7s
              alertname: WorkersMissing
              exp_alerts:
                - exp_labels: {severity: ticket}
        """,
    )


def test_backlogs_fire_once_their_oldest_is_past_its_age(tmp_path):
    assert_passes(
        tmp_path,
        """
        - interval: 1s
          input_series:
            - series: 'sns_outbox_oldest_seconds{job="backlog", outbox="feeds.FanoutJob"}'
              values: '60x5 61x5'
            - series: 'sns_outbox_oldest_seconds{job="backlog", outbox="members.OutboundMail"}'
              values: '180x5 181x5'
            - series: 'sns_outbox_oldest_seconds{job="backlog", outbox="members.MemberRemoval"}'
              values: '900x5 901x5'
          alert_rule_test:
            - eval_time: 5s
              alertname: FanoutBacklog
              exp_alerts: []
            - eval_time: 5s
              alertname: MailBacklog
              exp_alerts: []
            - eval_time: 5s
              alertname: RemovalBacklog
              exp_alerts: []
            - eval_time: 7s
              alertname: FanoutBacklog
              exp_alerts:
                - exp_labels: {severity: ticket}
            - eval_time: 7s
              alertname: MailBacklog
              exp_alerts:
                - exp_labels: {severity: ticket}
            - eval_time: 7s
              alertname: RemovalBacklog
              exp_alerts:
                - exp_labels: {severity: ticket}
        """,
    )


def test_server_errors_fire_past_one_answer_in_a_hundred(tmp_path):
    # 0.5 % of answers are 5xx for two minutes, then 2 %.
    assert_passes(
        tmp_path,
        """
        - interval: 1s
          input_series:
            - series: 'django_http_responses_total_by_status_total{job="app", status="200"}'
              values: '0+199x120 23880+98x120'
            - series: 'django_http_responses_total_by_status_total{job="app", status="500"}'
              values: '0+1x120 120+2x120'
          alert_rule_test:
            - eval_time: 110s
              alertname: ServerErrors
              exp_alerts: []
            - eval_time: 230s
              alertname: ServerErrors
              exp_alerts:
                - exp_labels: {severity: page}
        """,
    )
