"""The newcomer's path: sample -> ingest -> the demo's sign-in hint -> the incident on the dashboard."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import running_server, screenshot
from trailhouse.cli.users import demo_sign_in
from trailhouse.lake import Lake
from trailhouse.sample import incident

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("demo")
    exe = str(Path(sys.executable).with_name("trailhouse"))
    logs, lake = root / "logs", root / "lake"
    subprocess.run(
        [exe, "sample", str(logs), "--events", "3000", "--no-digests"], check=True, capture_output=True
    )
    subprocess.run(
        [exe, "ingest", str(logs), "--lake", str(lake), "--workers", "1"], check=True, capture_output=True
    )
    hint = demo_sign_in(str(lake))
    token = re.search(r"th_[A-Za-z0-9_\-]{43}", hint)
    assert token is not None
    with running_server(Lake(lake)) as url:
        yield url, token.group(0)


def test_demo_newcomer_signs_in_and_sees_the_incident(page: Any, demo: tuple[str, str]) -> None:
    url, token = demo
    page.goto(url + "/")
    assert page.locator("#token").is_visible()  # 401: the sign-in form
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(url + "/dashboards/console-logins")
    without_mfa = page.locator("table[data-section=without_mfa]").inner_text()
    assert incident.USER in without_mfa and incident.IP in without_mfa
    countries = page.locator("table[data-section=countries]").text_content()
    assert incident.COUNTRY in countries
    screenshot(page, "demo-incident-console-logins")
    page.goto(url + "/dashboards/security-group-changes")
    changes = page.locator("table[data-section=changes]").inner_text()
    assert incident.SECURITY_GROUP_ID in changes and incident.CIDR in changes
    screenshot(page, "demo-incident-security-groups")
