"""The BI dashboard, checked as a person sees it: Streamlit in headless Chromium.

The demo warehouse is copied and published (``leadscore.publish.publish``) into a serving
file; ``streamlit run`` serves the app on a free 127.0.0.1 port; Selenium drives Debian's
chromium through /usr/bin/chromedriver (never Selenium Manager) and reads every page. What a
page shows is compared with :mod:`leadscore.dashboard.queries` and with SQL written here
straight on the serving file. Screenshots go to build/test/dashboard/<page>.png.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from streamlit.testing.v1 import AppTest

from leadscore.config import PROJECT_ROOT, Settings
from leadscore.dashboard import queries
from leadscore.dashboard.app import humanize
from leadscore.pipeline import DATASETS
from leadscore.publish import publish

APP = PROJECT_ROOT / "python" / "leadscore" / "dashboard" / "app.py"
SCREENSHOTS = PROJECT_ROOT / "build" / "test" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW_WIDTH, WINDOW_HEIGHT = 1440, 1000
MAX_SCREENSHOT_HEIGHT = 6000
STARTUP_SECONDS = 90
RENDER_SECONDS = 60
EMPTY = "—"

# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serving_file(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse, copied and published into a serving file of its own."""
    folder = tmp_path_factory.mktemp("dashboard")
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    settings = Settings(
        project_dir=PROJECT_ROOT,
        warehouse_path=warehouse,
        registry_dir=folder / "registry",
        serving_path=folder / "serving.duckdb",
    )
    with pytest.MonkeyPatch.context() as patch:
        # `dbt ls` (which lists the served models) writes its target and logs here.
        patch.setenv("DBT_TARGET_PATH", str(folder / "target"))
        patch.setenv("DBT_LOG_PATH", str(folder / "logs"))
        result = publish(settings, dbt_vars=DATASETS["crm"])
    return result.path


@pytest.fixture()
def serving_con(serving_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection for the tests' own SQL."""
    con = duckdb.connect(str(serving_file), read_only=True)
    yield con
    con.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"streamlit did not answer on {url} in {STARTUP_SECONDS}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def dashboard_url(
    serving_file: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """``streamlit run`` of the app on the serving file, headless, on a free local port."""
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
    ]
    env = {**os.environ, "LEAD_SCORING_SERVING_PATH": str(serving_file)}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    request.addfinalizer(lambda: _stop(process))
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(process, url, log)
    return url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> WebDriver:
    """Headless Chromium driven through Debian's chromedriver, with no download fallback."""
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not binary.exists():
            pytest.fail(
                f"{binary} is missing: install Debian's {package} (`make browser`, or "
                "`apt-get install -y chromium chromium-driver`); the dashboard test needs it"
            )
    patch = pytest.MonkeyPatch()
    request.addfinalizer(patch.undo)
    patch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never fetch a driver
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WINDOW_WIDTH},{WINDOW_HEIGHT}",
    ):
        options.add_argument(argument)
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(log))
    driver = webdriver.Chrome(service=service, options=options)
    request.addfinalizer(driver.quit)
    driver.set_page_load_timeout(RENDER_SECONDS)
    return driver


# --- Reading pages --------------------------------------------------------------------------


def _text_of(driver: WebDriver, css: str) -> str | None:
    elements = driver.find_elements(By.CSS_SELECTOR, css)
    if not elements:
        return None
    value = str(elements[0].text).strip()
    return value or None


def wait_text(driver: WebDriver, css: str) -> str:
    """The text of the first element matching ``css``, once it is rendered and not empty."""
    found: str = WebDriverWait(driver, RENDER_SECONDS, poll_frequency=0.2).until(
        lambda d: _text_of(d, css), message=f"nothing rendered at {css} on {driver.current_url}"
    )
    return found


def open_page(driver: WebDriver, url: str, ready_key: str) -> None:
    """Load a page and wait until the keyed element it ends with has rendered."""
    driver.get(url)
    wait_text(driver, ".st-key-build-id p")
    wait_text(driver, f".st-key-{ready_key}")


TABLE_SCRIPT = """
const table = document.querySelector(arguments[0]);
if (!table) { return null; }
const cells = (row, tag) => Array.from(row.querySelectorAll(tag), c => c.innerText.trim());
return {
    headers: Array.from(table.querySelectorAll("thead tr"), r => cells(r, "th")).flat(),
    rows: Array.from(table.querySelectorAll("tbody tr"), r => cells(r, "td")),
};
"""


def read_table(driver: WebDriver, key: str) -> list[dict[str, str]]:
    """The rows of the ``st.table`` in the container ``key``, as {header: cell text}."""
    wait_text(driver, f".st-key-{key} tbody tr td")
    table = driver.execute_script(TABLE_SCRIPT, f".st-key-{key} table")
    assert table is not None, f"no table in .st-key-{key}"
    headers = table["headers"]
    for cells in table["rows"]:
        assert len(cells) == len(headers), f"{key}: {headers} vs {cells}"
    return [dict(zip(headers, cells, strict=True)) for cells in table["rows"]]


def metric_value(driver: WebDriver, key: str) -> str:
    """The value of the ``st.metric`` in the container ``key``."""
    return wait_text(driver, f".st-key-{key} [data-testid='stMetricValue']")


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the whole page (the window grown to the content's height) as <name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script(
        "const main = document.querySelector('[data-testid=\"stMain\"]');"
        "return main ? main.scrollHeight : document.body.scrollHeight;"
    )
    target = max(WINDOW_HEIGHT, min(int(height) + 40, MAX_SCREENSHOT_HEIGHT))
    driver.set_window_size(WINDOW_WIDTH, target)
    WebDriverWait(driver, RENDER_SECONDS, poll_frequency=0.1).until(
        lambda d: d.execute_script("return window.innerHeight") >= target - 200
    )
    # two animation frames: the relayout after the resize has been painted
    driver.execute_async_script(
        "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done));"
    )
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot saved at {path}"
    driver.set_window_size(WINDOW_WIDTH, WINDOW_HEIGHT)
    return path


def wait_for_charts(driver: WebDriver, count: int) -> None:
    """Vega-Lite charts draw after the page: wait until ``count`` of them have a canvas or svg."""
    WebDriverWait(driver, RENDER_SECONDS, poll_frequency=0.2).until(
        lambda d: (
            len(
                d.find_elements(
                    By.CSS_SELECTOR,
                    "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg",
                )
            )
            >= count
        ),
        message="the charts did not draw",
    )


def number(value: str) -> float:
    """A displayed figure as a number: ``$1,234``, ``26.6%`` and ``4,528`` alike."""
    cleaned = re.sub(r"[,$%\s]", "", value)
    assert re.fullmatch(r"-?\d+(\.\d+)?", cleaned), f"not a number: {value!r}"
    return float(cleaned)


def decimals(value: str) -> int:
    """How many decimals a displayed figure has (its precision)."""
    match = re.search(r"\.(\d+)", value)
    return len(match.group(1)) if match else 0


def assert_shown(shown: str, expected: float, percent: bool = False) -> None:
    """A displayed figure equals ``expected`` to the precision it is displayed with."""
    value = expected * 100 if percent else expected
    tolerance = 0.5 * 10 ** -decimals(shown) + 1e-9
    assert abs(number(shown) - value) <= tolerance, f"shown {shown!r}, expected {value}"


def shown_text(value: Any) -> str:
    """How the dashboard shows a text value: as is, ``—`` when missing."""
    return EMPTY if value is None or value == "" else str(value)


def url_for(base: str, page: str, **params: str) -> str:
    """A page URL, with widget values bound to query parameters."""
    query = f"?{urlencode(params)}" if params else ""
    return f"{base}/{page}{query}"


# --- queries.py, without a browser -------------------------------------------------------------


def test_open_serving_reads_the_file_now_at_the_path(tmp_path: Path) -> None:
    """After an atomic swap a new page load sees the new file, even while an old one is open."""
    path = tmp_path / "serving.duckdb"
    for version, name in ((1, "first.duckdb"), (2, "second.duckdb")):
        with duckdb.connect(str(tmp_path / name)) as con:
            con.execute(f"create table publish_manifest as select 'build-{version}' as build_id")
    os.replace(tmp_path / "first.duckdb", path)
    with queries.open_serving(path) as old:
        assert old.execute("select build_id from publish_manifest").fetchall() == [("build-1",)]
        os.replace(tmp_path / "second.duckdb", path)
        with queries.open_serving(path) as new:
            rows = new.execute("select build_id from publish_manifest").fetchall()
            assert rows == [("build-2",)]
            with pytest.raises(duckdb.Error, match="read-only"):
                new.execute("create table written as select 1")
    missing = tmp_path / "missing.duckdb"
    with (
        pytest.raises(queries.ServingFileMissingError, match=r"make run.*leadscore publish"),
        queries.open_serving(missing),
    ):
        pass


def test_app_without_a_serving_file_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No serving file: the app says to run `make run` or `leadscore publish`, naming the path."""
    missing = tmp_path / "nothing" / "serving.duckdb"
    monkeypatch.setenv("LEAD_SCORING_SERVING_PATH", str(missing))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception
    errors = [element.value for element in app.error]
    assert len(errors) == 1, errors
    assert str(missing) in errors[0]
    assert "`make run`" in errors[0]
    assert "`leadscore publish`" in errors[0]


@pytest.mark.dbt
def test_queries_match_the_serving_tables(
    serving_file: Path, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """Every query function agrees with SQL written here on the serving file."""
    with queries.open_serving(serving_file) as con:
        assert queries.missing_tables(con) == []
        info = queries.build_info(con)
        manifest = serving_con.execute(
            "select distinct build_id, published_at from publish_manifest"
        ).fetchall()
        assert [(info.build_id, info.published_at)] == manifest
        assert info.build_ids == 1

        per_tier = {
            tier: (leads, expected)
            for tier, leads, expected in serving_con.execute(
                "select tier, count(*), sum(conversion_probability) "
                "from fct_lead_scores group by tier"
            ).fetchall()
        }
        funnel = queries.tier_funnel(con)
        assert list(funnel["tier"]) == sorted(per_tier)
        for row in funnel.itertuples():
            assert row.leads == per_tier[row.tier][0]
            assert row.expected_conversions == pytest.approx(per_tier[row.tier][1], abs=1e-6)
        totals = queries.funnel_totals(con)
        assert totals.leads == sum(leads for leads, _ in per_tier.values())
        assert totals.leads == info.scored_leads
        assert totals.expected_rate == pytest.approx(
            sum(expected for _, expected in per_tier.values()) / totals.leads
        )

        top = serving_con.execute(
            "select lead_id from fct_lead_scores "
            "order by conversion_probability desc, rules_points desc, lead_id limit 10"
        ).fetchall()
        assert list(queries.lead_leaderboard(con, None, 10)["lead_id"]) == [t[0] for t in top]
        second_tier = funnel["tier"].iloc[1]
        board = queries.lead_leaderboard(con, second_tier, 1000)
        assert set(board["tier"]) == {second_tier}
        assert len(board) == min(1000, per_tier[second_tier][0])
        assert queries.lead_totals(con, second_tier).leads == per_tier[second_tier][0]


@pytest.mark.dbt
def test_account_and_attribution_queries_match_the_serving_tables(
    serving_file: Path, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """Accounts' committee gaps and every model's channel credit, against SQL here."""
    with queries.open_serving(serving_file) as con:
        accounts = queries.account_view(con, None, 5)
        expected = serving_con.execute(
            "select account_id, committee_roles_missing, len(committee_roles_covered), "
            "committee_roles_total from fct_account_scores "
            "order by opportunity_probability desc, priority_rank limit 5"
        ).fetchall()
        for row, (account, missing, covered, total) in zip(
            accounts.itertuples(), expected, strict=True
        ):
            assert row.account_id == account
            assert (row.roles_covered, row.roles_total) == (covered, total)
            shown = set(filter(None, str(row.missing_roles or "").split(", ")))
            assert shown == {role.replace("_", " ") for role in missing or []}

        for scope in queries.attribution_scopes(con):
            for model in queries.attribution_models(con):
                credit = queries.channel_credit(con, model, scope)
                sql = dict(
                    serving_con.execute(
                        "select channel, sum(attributed_conversions) from "
                        "fct_channel_attributions where attribution_model = ? and path_scope = ? "
                        "group by channel",
                        [model, scope],
                    ).fetchall()
                )
                assert dict(
                    zip(credit["channel"], credit["attributed_conversions"], strict=True)
                ) == (pytest.approx(sql))
                assert credit["share_of_conversions"].sum() == pytest.approx(1.0)


@pytest.mark.dbt
def test_monitoring_queries_match_the_serving_tables(
    serving_file: Path, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """The verdict, the drift ranking and the backtest period."""
    with queries.open_serving(serving_file) as con:
        health = queries.model_health(con)
        assert health is not None
        worst, due = serving_con.execute(
            "select worst_drift_feature, is_retrain_due from fct_model_health"
        ).fetchall()[0]
        assert (health["worst_drift_feature"], health["is_retrain_due"]) == (worst, due)
        drift = queries.feature_drift(con, 5)
        (features,) = serving_con.execute("select count(*) from fct_feature_drift").fetchall()[0]
        assert len(drift) == min(5, features)
        if features:
            assert drift["feature_name"].iloc[0] == worst
            assert list(drift["psi"]) == sorted(drift["psi"], reverse=True)
        else:
            assert worst is None
        periods = set(queries.backtest_tiers(con)["sample_period"])
        assert len(periods) == 1
        windows = queries.backtest_windows(con)
        (window_rows,) = serving_con.execute(
            "select count(*) from fct_score_backtest where breakdown = 'window'"
        ).fetchall()[0]
        assert len(windows) == window_rows


# --- The pages in Chromium -------------------------------------------------------------------


def assert_build_header(driver: WebDriver, con: duckdb.DuckDBPyConnection) -> None:
    """The header shows the manifest's build id and time, the scoring date and the scorer."""
    build_id, published_at = con.execute(
        "select distinct build_id, published_at from publish_manifest"
    ).fetchall()[0]
    scoring_date, versions, fallback = con.execute(
        "select max(as_of_date), list(distinct model_version), bool_and(is_rules_fallback) "
        "from fct_lead_scores"
    ).fetchall()[0]
    assert wait_text(driver, ".st-key-build-id p") == build_id
    assert wait_text(driver, ".st-key-published-at p") == f"{published_at:%Y-%m-%d %H:%M:%S}"
    assert wait_text(driver, ".st-key-scoring-date p") == scoring_date.isoformat()
    scored_by = wait_text(driver, ".st-key-scored-by p")
    assert all(version in scored_by for version in versions)
    assert scored_by.startswith("Rules fallback" if fallback else "Model")


@pytest.mark.dbt
def test_tier_funnel_page(
    browser: WebDriver,
    dashboard_url: str,
    serving_file: Path,
    serving_con: duckdb.DuckDBPyConnection,
) -> None:
    """Leads and expected conversions per tier equal queries.py's and the scores' own sums."""
    open_page(browser, url_for(dashboard_url, ""), "funnel-table")
    assert_build_header(browser, serving_con)
    shown = {row["Tier"]: row for row in read_table(browser, "funnel-table")}
    sql = {
        tier: (leads, expected, action)
        for tier, leads, expected, action in serving_con.execute(
            "select tier, count(*), sum(conversion_probability), any_value(tier_action) "
            "from fct_lead_scores group by tier"
        ).fetchall()
    }
    with queries.open_serving(serving_file) as con:
        funnel = queries.tier_funnel(con)
        totals = queries.funnel_totals(con)
    assert list(shown) == list(funnel["tier"])
    assert set(shown) == set(sql)
    for row in funnel.itertuples():
        displayed = shown[row.tier]
        leads, expected, action = sql[row.tier]
        assert number(displayed["Leads"]) == row.leads == leads
        assert_shown(displayed["Expected conversions"], row.expected_conversions)
        assert_shown(displayed["Expected conversions"], expected)
        assert displayed["Action"] == row.tier_action == action
    assert (
        number(metric_value(browser, "total-leads"))
        == totals.leads
        == sum(leads for leads, _, _ in sql.values())
    )
    assert_shown(metric_value(browser, "total-expected"), sum(e for _, e, _ in sql.values()))
    (fallback,) = serving_con.execute(
        "select bool_and(is_rules_fallback) from fct_lead_scores"
    ).fetchall()[0]
    notes = browser.find_elements(By.CSS_SELECTOR, ".st-key-fallback-note")
    assert bool(notes) == bool(fallback)
    wait_for_charts(browser, 2)
    screenshot(browser, "funnel")


@pytest.mark.dbt
def test_lead_leaderboard_page(
    browser: WebDriver, dashboard_url: str, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """The first lead and its three reasons are fct_lead_scores' most likely lead's."""
    open_page(browser, url_for(dashboard_url, "leaderboard"), "leaderboard-table")
    rows = read_table(browser, "leaderboard-table")
    lead, probability, tier, *reasons = serving_con.execute(
        "select lead_id, conversion_probability, tier, reason_1, reason_2, reason_3 "
        "from fct_lead_scores order by conversion_probability desc, rules_points desc, lead_id "
        "limit 1"
    ).fetchall()[0]
    (total,) = serving_con.execute("select count(*) from fct_lead_scores").fetchall()[0]
    first = rows[0]
    assert first["Lead"] == lead
    assert first["Tier"] == tier
    assert_shown(first["Probability"], probability, percent=True)
    assert [first["Reason 1"], first["Reason 2"], first["Reason 3"]] == [
        shown_text(reason) for reason in reasons
    ]
    assert len(rows) == min(50, total)
    assert number(metric_value(browser, "leads-in-view")) == total
    screenshot(browser, "leaderboard")


@pytest.mark.dbt
def test_lead_leaderboard_filters_by_tier(
    browser: WebDriver, dashboard_url: str, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """``?tier=B`` shows tier B only, led by its most likely lead."""
    tier = serving_con.execute(
        "select tier from fct_lead_tier_summary order by tier_order limit 1 offset 1"
    ).fetchall()[0][0]
    open_page(browser, url_for(dashboard_url, "leaderboard", tier=tier), "leaderboard-table")
    WebDriverWait(browser, RENDER_SECONDS, poll_frequency=0.2).until(
        lambda d: f"in tier {tier}" in d.find_element(By.TAG_NAME, "body").text,
        message=f"the page did not filter to tier {tier}",
    )
    rows = read_table(browser, "leaderboard-table")
    (leads,) = serving_con.execute(
        "select count(*) from fct_lead_scores where tier = ?", [tier]
    ).fetchall()[0]
    top = serving_con.execute(
        "select lead_id from fct_lead_scores where tier = ? "
        "order by conversion_probability desc, rules_points desc, lead_id limit 1",
        [tier],
    ).fetchall()[0][0]
    assert {row["Tier"] for row in rows} == {tier}
    assert rows[0]["Lead"] == top
    assert len(rows) == min(50, leads)
    assert number(metric_value(browser, "leads-in-view")) == leads
    screenshot(browser, f"leaderboard_tier_{tier}")


@pytest.mark.dbt
def test_accounts_page(
    browser: WebDriver, dashboard_url: str, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """The top account's committee coverage and missing roles are fct_account_scores'."""
    open_page(browser, url_for(dashboard_url, "accounts"), "accounts-table")
    rows = read_table(browser, "accounts-table")
    account, probability, missing, covered, total = serving_con.execute(
        "select account_id, opportunity_probability, committee_roles_missing, "
        "len(committee_roles_covered), committee_roles_total from fct_account_scores "
        "order by opportunity_probability desc, priority_rank limit 1"
    ).fetchall()[0]
    first = rows[0]
    assert first["Account"] == account
    assert_shown(first["Opportunity probability"], probability, percent=True)
    assert first["Committee coverage"] == f"{covered} of {total}"
    roles = first["Missing roles"]
    shown_roles = set() if roles == "none" else set(roles.split(", "))
    assert shown_roles == {role.replace("_", " ") for role in missing or []}
    (accounts,) = serving_con.execute("select count(*) from fct_account_scores").fetchall()[0]
    assert number(metric_value(browser, "accounts-scored")) == accounts
    screenshot(browser, "accounts")


@pytest.mark.dbt
def test_channel_attribution_page(
    browser: WebDriver, dashboard_url: str, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """Credit per channel for one model and scope, chosen through the URL, equals the mart's."""
    model, scope = serving_con.execute(
        "select max(attribution_model), max(path_scope) from fct_channel_attributions"
    ).fetchall()[0]
    url = url_for(
        dashboard_url, "attribution", scope=f"{humanize(scope)} paths", model=humanize(model)
    )
    open_page(browser, url, "attribution-table")
    heading = f"{humanize(model)} credit per channel"
    WebDriverWait(browser, RENDER_SECONDS, poll_frequency=0.2).until(
        lambda d: heading in d.find_element(By.TAG_NAME, "body").text,
        message=f"the page did not switch to {model}",
    )
    rows = {row["Channel"]: row for row in read_table(browser, "attribution-table")}
    sql = serving_con.execute(
        "select channel, sum(attributed_conversions), sum(attributed_pipeline_amount), "
        "sum(touchpoint_count) from fct_channel_attributions "
        "where attribution_model = ? and path_scope = ? group by channel",
        [model, scope],
    ).fetchall()
    assert set(rows) == {humanize(channel) for channel, *_ in sql}
    for channel, conversions, pipeline, touches in sql:
        shown = rows[humanize(channel)]
        assert_shown(shown["Attributed conversions"], conversions)
        assert_shown(shown["Attributed pipeline"], pipeline)
        assert number(shown["Credited touches"]) == touches
    assert_shown(metric_value(browser, "attributed-conversions"), sum(row[1] for row in sql))
    comparison = read_table(browser, "attribution-comparison")
    models = serving_con.execute(
        "select distinct attribution_model from fct_channel_attributions order by 1"
    ).fetchall()
    assert list(comparison[0])[1:] == [humanize(name) for (name,) in models]
    wait_for_charts(browser, 1)
    screenshot(browser, "attribution")


@pytest.mark.dbt
def test_drift_and_backtest_page(
    browser: WebDriver, dashboard_url: str, serving_con: duckdb.DuckDBPyConnection
) -> None:
    """The verdict and the worst-drifting feature are fct_model_health's; tables are complete."""
    open_page(browser, url_for(dashboard_url, "monitoring"), "segments-table")
    worst, due, reasons, note = serving_con.execute(
        "select worst_drift_feature, is_retrain_due, retrain_reasons, status_note "
        "from fct_model_health order by scoring_date desc limit 1"
    ).fetchall()[0]
    assert metric_value(browser, "worst-drift") == shown_text(worst)
    verdict = wait_text(browser, ".st-key-health-verdict [data-testid='stMarkdownContainer']")
    if due:
        assert verdict.startswith("Retraining due")
        assert reasons in verdict
    else:
        assert verdict.startswith("No retraining due")
    (features,) = serving_con.execute("select count(*) from fct_feature_drift").fetchall()[0]
    if features:
        drift = read_table(browser, "drift-table")
        top = serving_con.execute(
            "select feature_name from fct_feature_drift order by psi desc nulls last, "
            "feature_name limit 1"
        ).fetchall()[0][0]
        assert drift[0]["Feature"] == top == worst
        assert len(drift) == min(20, features)
    else:
        # the note's `code` renders as code: its backticks are not in the text
        assert note.replace("`", "") in wait_text(browser, ".st-key-drift-empty")
    tiers = read_table(browser, "backtest-tiers")
    (tier_rows,) = serving_con.execute(
        "select count(*) from fct_score_backtest where breakdown = 'tier' group by sample_period "
        "order by case sample_period when 'out_of_sample' then 0 when 'no_model' then 1 "
        "when 'unknown' then 2 else 3 end limit 1"
    ).fetchall()[0]
    assert len(tiers) == tier_rows
    segments = read_table(browser, "segments-table")
    (segment_rows,) = serving_con.execute(
        "select count(*) from fct_segment_performance"
    ).fetchall()[0]
    assert len(segments) == segment_rows
    screenshot(browser, "monitoring")
