"""The alert rules pass promtool (check and unit tests), their runbooks resolve, and a live
daemon's /metrics passes ``promtool check metrics`` with every series there from the start."""

from __future__ import annotations

import itertools
import os
import platform
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapter.cli import main
from adapter.daemon import Daemon
from adapter.devpki import DevPki
from adapter.store import MessageState
from monitoring import metrics
from monitoring.rules import DEFAULT_RUNBOOK_BASE, PLACEHOLDER_BASE, render_rules, runbook_base
from simulator import Simulator
from tests.conftest import signing_config
from tests.integration.conftest import make_settings
from tests.support.processes import unique_broker_names

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "monitoring" / "alerts.yml"
UNIT_TESTS = ROOT / "monitoring" / "tests" / "alerts_test.yml"
ALERTS = re.findall(r"^\s*- alert: (\S+)$", RULES.read_text(), re.MULTILINE)


@pytest.fixture(scope="module")
def promtool() -> str:
    """The promtool binary (Debian's prometheus package); CI must have it, a laptop may not."""
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing on the CI machine (apt-get install prometheus)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, input=stdin, capture_output=True, timeout=120, check=False)


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub makes of a document's headings (code blocks hold no headings)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or heading is None:
            continue
        text = re.sub(r"[^\w\- ]", "", heading[1].replace("`", "").lower())
        anchor = text.replace(" ", "-")
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


def runbook_urls(rules: str) -> list[str]:
    return re.findall(r'^\s*runbook_url:\s*"([^"]*)"\s*$', rules, re.MULTILINE)


class TestPromtool:
    """promtool accepts the rules file and every rule passes its unit tests."""

    def test_check_rules_finds_every_rule(self, promtool: str) -> None:
        """``promtool check rules`` succeeds and counts as many rules as the file declares."""
        done = run(promtool, "check", "rules", str(RULES))
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        assert f"SUCCESS: {len(ALERTS)} rules found" in done.stdout.decode()

    def test_unit_tests_pass(self, promtool: str) -> None:
        """``promtool test rules``: each rule fires when it should, then clears."""
        done = run(promtool, "test", "rules", str(UNIT_TESTS))
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        assert "SUCCESS" in done.stdout.decode()

    def test_rendered_rules_pass_check(self, promtool: str, tmp_path: Path) -> None:
        """The copy ``alert-rules`` prints is a valid rules file too."""
        rendered = tmp_path / "vsb-adapter.yml"
        rendered.write_text(render_rules("https://wiki.example.org/vsb-adapter/"))
        done = run(promtool, "check", "rules", str(rendered))
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


class TestUnitTestCoverage:
    """No rule is left without a test that it fires and a test that it clears."""

    @pytest.mark.parametrize("alert", ALERTS)
    def test_the_rule_is_seen_firing_and_cleared(self, alert: str) -> None:
        """A firing expectation (with labels) and an empty one, outside the healthy group."""
        text = UNIT_TESTS.read_text()
        scenario = text.split(f"  - name: '{alert}: fires at", 1)
        assert len(scenario) == 2, f"no scenario for {alert}"
        own = scenario[1].split("\n  - name: ", 1)[0]
        assert f"alertname: {alert}\n        exp_alerts:\n          - exp_labels:" in own
        assert f"alertname: {alert}\n        exp_alerts: []" in own

    def test_every_rule_stays_quiet_on_healthy_series(self) -> None:
        """The healthy group expects no alert of every rule."""
        healthy = UNIT_TESTS.read_text().split("  - name: 'healthy series", 1)[1]
        for alert in ALERTS:
            assert f"alertname: {alert}\n        exp_alerts: []" in healthy, alert


class TestRunbookUrls:
    """Rendered runbook URLs are absolute and land on a heading that exists."""

    @pytest.mark.parametrize(
        "base", [DEFAULT_RUNBOOK_BASE, "https://wiki.example.org/vsb-adapter/"]
    )
    def test_every_url_is_absolute_and_its_anchor_exists(self, base: str) -> None:
        """One URL per rule, under the base, naming a docs/ page and one of its headings."""
        urls = runbook_urls(render_rules(base))
        assert len(urls) == len(ALERTS)
        for url in urls:
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https"), url
            assert parts.netloc, url
            assert url.startswith(base), url
            page = ROOT / "docs" / url.removeprefix(base).split("#", 1)[0]
            assert page.is_file(), url
            assert parts.fragment in github_anchors(page.read_text()), url

    def test_the_source_uses_the_placeholder_only(self) -> None:
        """alerts.yml names every runbook under the placeholder base, nothing else."""
        urls = runbook_urls(RULES.read_text())
        assert len(urls) == len(ALERTS)
        assert all(url.startswith(PLACEHOLDER_BASE) for url in urls)
        assert PLACEHOLDER_BASE not in "".join(runbook_urls(render_rules()))

    @pytest.mark.parametrize(
        ("given", "used"),
        [
            ("https://wiki.example.org/vsb-adapter/", "https://wiki.example.org/vsb-adapter/"),
            ("https://wiki.example.org/vsb-adapter", "https://wiki.example.org/vsb-adapter/"),
            ("http://intranet:8080/docs/", "http://intranet:8080/docs/"),
        ],
    )
    def test_a_base_is_taken_with_one_final_slash(self, given: str, used: str) -> None:
        """A base without its final slash gets one, so the page is not put in its place."""
        assert runbook_base(given) == used

    @pytest.mark.parametrize(
        "given",
        [
            "ftp://wiki.example.org/",
            "wiki.example.org/vsb-adapter/",
            "/docs/",
            "https:///docs/",
            "https://wiki.example.org/?page=",
            "https://wiki.example.org/#top",
            'https://wiki.example.org/"x/',
            "https://wiki.example.org/a b/",
        ],
    )
    def test_a_base_that_is_no_absolute_url_is_refused(self, given: str) -> None:
        """Not http(s), relative, without host, with query or fragment, or breaking YAML."""
        with pytest.raises(ValueError, match="runbook base"):
            runbook_base(given)

    def test_a_rule_outside_the_placeholder_is_refused(self) -> None:
        """A runbook_url the renderer cannot place under the base is an error, not left as is."""
        key = f'runbook_url: "{PLACEHOLDER_BASE}'
        source = RULES.read_text().replace(key, 'runbook_url: "docs/', 1)
        with pytest.raises(ValueError, match="does not start with"):
            render_rules(source=source)

    def test_a_runbook_url_the_renderer_cannot_read_is_refused(self) -> None:
        """An unquoted runbook_url is not skipped silently, leaving it under the placeholder."""
        key = f'runbook_url: "{PLACEHOLDER_BASE}sysadmin.md#monitoring"'
        source = RULES.read_text().replace(key, key.replace('"', ""), 1)
        with pytest.raises(ValueError, match="double-quoted"):
            render_rules(source=source)

    def test_the_command_prints_the_rendered_rules(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``vsb-adapter alert-rules --runbook-base URL`` prints what render_rules makes."""
        base = "https://wiki.example.org/vsb-adapter/"
        assert main(["alert-rules", "--runbook-base", base]) == 0
        assert capsys.readouterr().out == render_rules(base)

    def test_the_command_refuses_a_bad_base_as_usage(self) -> None:
        """A base that is no URL is bad usage: exit 2, nothing printed on stdout."""
        with pytest.raises(SystemExit) as exited:
            main(["alert-rules", "--runbook-base", "wiki/vsb-adapter"])
        assert exited.value.code == 2


class TestLabelValues:
    """The label values declared in monitoring/metrics.py follow the code they describe."""

    def test_message_states_are_the_stores(self) -> None:
        """vsb_messages{state} starts at 0 for exactly the states a message can be in."""
        assert set(metrics.MESSAGE_STATES) == {state.value for state in MessageState}

    def test_every_value_the_code_counts_is_declared(self) -> None:
        """A label value written in adapter/ or queues/ is one of its tuple's: else its
        series would appear at 1 on first use, and increase() would miss that first one."""
        declared = {
            "events": (metrics.EVENT_CODES, metrics.EVENT_RESULTS),
            "sends": (metrics.SENT_EVENT_CODES, metrics.SEND_OUTCOMES),
            "dead_lettered": (metrics.DEAD_LETTER_REASONS,),
            "store_failures": (metrics.STORE_OPERATIONS, metrics.STORE_FAILURE_KINDS),
            "broker_reconnects": (metrics.BROKER_CONNECTIONS,),
            "broker_up": (metrics.BROKER_CONNECTIONS,),
            "signing_reloads": (metrics.RELOAD_RESULTS,),
            "answers_untrusted": (metrics.UNTRUSTED_REASONS,),
            "central_tls_failures": (metrics.TLS_REASONS,),
        }
        used: list[tuple[str, int, str]] = []
        for path in [*(ROOT / "adapter").rglob("*.py"), *(ROOT / "queues").rglob("*.py")]:
            text = path.read_text()
            for name, args in re.findall(r"metrics\.(\w+)\.labels\(([^()]*)\)", text):
                for position, arg in enumerate(args.split(",")):
                    used += [(name, position, value) for value in re.findall(r'"([^"]*)"', arg)]
        sender = (ROOT / "adapter" / "engine" / "sender.py").read_text()
        used += [("dead_lettered", 0, v) for v in re.findall(r'_dead\(.*"(\w+)"\)$', sender, re.M)]
        wssecurity = (ROOT / "adapter" / "wssecurity.py").read_text()
        used += [
            ("answers_untrusted", 0, v) for v in re.findall(r'UntrustedAnswer\("(\w+)"', wssecurity)
        ]
        assert len(used) > 20
        for name, position, value in used:
            assert value in declared[name][position], (name, value)


@pytest.fixture(scope="module")
def live_metrics(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[bytes]:
    """The body of /metrics of a real daemon (SQLite, RabbitMQ, the simulator), no event sent."""
    store = tmp_path_factory.mktemp("live-metrics") / "store.db"
    with Simulator(signing_config(pki)) as simulator, unique_broker_names() as names:
        daemon = Daemon(make_settings(f"sqlite:///{store}", names, simulator, pki))
        daemon.start()
        try:
            url = f"http://127.0.0.1:{daemon.health_server.port}/metrics"
            with urllib.request.urlopen(url, timeout=10) as response:
                yield response.read()
        finally:
            daemon.stop()


class TestLiveMetrics:
    """What a running daemon serves before its first event."""

    def test_promtool_finds_no_problem(self, promtool: str, live_metrics: bytes) -> None:
        """``promtool check metrics`` reads the body on stdin and reports nothing."""
        done = run(promtool, "check", "metrics", stdin=live_metrics)
        assert (done.returncode, done.stdout + done.stderr) == (0, b"")

    def test_build_info_names_version_and_python(self, live_metrics: bytes) -> None:
        """vsb_build_info is 1 with the installed version and the running Python."""
        samples = _samples(live_metrics)
        labels = (("python", platform.python_version()), ("version", version("vsb-adapter")))
        assert samples[("vsb_build_info", labels)] == 1

    @pytest.mark.parametrize(
        ("name", "label_sets"),
        [
            (
                "vsb_events_received_total",
                {"event_code": metrics.EVENT_CODES, "result": metrics.EVENT_RESULTS},
            ),
            (
                "vsb_sends_total",
                {"event_code": metrics.SENT_EVENT_CODES, "outcome": metrics.SEND_OUTCOMES},
            ),
            ("vsb_dead_lettered_total", {"reason": metrics.DEAD_LETTER_REASONS}),
            ("vsb_answers_published_total", {"outcome": metrics.ANSWER_OUTCOMES}),
            ("vsb_central_answers_untrusted_total", {"reason": metrics.UNTRUSTED_REASONS}),
            ("vsb_central_tls_failures_total", {"reason": metrics.TLS_REASONS}),
            (
                "vsb_store_failures_total",
                {"operation": metrics.STORE_OPERATIONS, "kind": metrics.STORE_FAILURE_KINDS},
            ),
            ("vsb_broker_reconnects_total", {"connection": metrics.BROKER_CONNECTIONS}),
            ("vsb_signing_reloads_total", {"result": metrics.RELOAD_RESULTS}),
        ],
    )
    def test_every_counter_series_is_there_at_zero(
        self, live_metrics: bytes, name: str, label_sets: dict[str, tuple[str, ...]]
    ) -> None:
        """Each known label combination is served, at 0, before anything happened."""
        samples = _samples(live_metrics)
        for values in itertools.product(*label_sets.values()):
            labels = tuple(sorted(zip(label_sets, values, strict=True)))
            assert samples.get((name, labels)) == 0, (name, labels)

    def test_every_state_and_connection_gauge_is_there(self, live_metrics: bytes) -> None:
        """vsb_messages for every state (0: an empty store) and both broker connections."""
        samples = _samples(live_metrics)
        for state in metrics.MESSAGE_STATES:
            assert samples.get(("vsb_messages", (("state", state),))) == 0, state
        for connection in metrics.BROKER_CONNECTIONS:
            assert ("vsb_broker_connected", (("connection", connection),)) in samples


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics body by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
