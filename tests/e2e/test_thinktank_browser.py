"""Think-tank charts in a real browser: the demo supply-chain analysis and risk assessment draw as SVG with
their data tables, under the strict CSP, and a full-page screenshot is taken for a person to look at."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, expect

from portal.thinktank.demo import OUTPUTS
from tests.conftest import output_id_by_title
from tests.e2e.conftest import PortalServer, sign_in

pytestmark = pytest.mark.e2e

SUPPLY_CHAIN = OUTPUTS[0].title
RISK_ASSESSMENT = OUTPUTS[1].title
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_supply_chain_charts_render_with_their_tables(
    context: BrowserContext, portal_server: PortalServer, screenshots: Path
) -> None:
    output_id = output_id_by_title(portal_server.database, SUPPLY_CHAIN)
    assert output_id is not None
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: _collect_csp(message, violations))
    sign_in(page, portal_server, "tanaka@meti.example.jp")

    page.goto(f"/outputs/{output_id}")

    expect(page.locator("h1")).to_have_text(SUPPLY_CHAIN)
    expect(page.locator("[data-testid=marking-top]")).to_be_visible()
    expect(page.locator("[data-testid=marking-bottom]")).to_be_visible()
    shares = page.locator("svg#chart-shares")
    concentration = page.locator("svg#chart-concentration")
    expect(shares).to_be_visible()
    expect(concentration).to_be_visible()
    expect(shares).to_have_attribute("role", "img")
    assert shares.bounding_box()["width"] > 500  # type: ignore[index]
    expect(page.locator("svg#chart-shares > title")).to_have_text("国別の供給シェア(品目・段階別)")
    # Gallium refining is the most concentrated stage: marked above the threshold, in words too.
    expect(page.locator("[data-testid=concentration-table]")).to_be_visible()
    expect(page.locator("[data-testid=concentration-table] tbody tr").first).to_contain_text("ガリウム")
    expect(concentration.locator(".chart-value--above").first).to_contain_text("閾値超")
    page.locator("[data-testid=dependency-details] summary").click()
    expect(page.locator("[data-testid=dependency-table]")).to_be_visible()
    expect(page.locator("[data-testid=dependency-table] tbody tr")).to_have_count(33)

    shares.screenshot(path=screenshots / "thinktank-shares-chart.png")
    concentration.screenshot(path=screenshots / "thinktank-concentration-chart.png")
    path = screenshots / "thinktank-supply-chain.png"
    page.screenshot(path=path, full_page=True)
    width, height = png_size(path)
    assert width >= 1000 and height >= 1500, (width, height)
    assert path.stat().st_size > 60_000, "a page of charts is not a near-empty image"
    assert violations == [], violations


def test_risk_heat_map_renders(
    context: BrowserContext, portal_server: PortalServer, screenshots: Path
) -> None:
    output_id = output_id_by_title(portal_server.database, RISK_ASSESSMENT)
    assert output_id is not None
    page = context.new_page()
    sign_in(page, portal_server, "sato@cao.example.jp")

    page.goto(f"/outputs/{output_id}")

    heat_map = page.locator("svg#chart-heat-map")
    expect(heat_map).to_be_visible()
    expect(heat_map.locator("g.heat-cell")).to_have_count(25)
    # Two risks sit at likelihood 2, impact 5 (wide-area blackout, earthquake).
    expect(heat_map.locator("g[data-likelihood='2'][data-impact='5']")).to_have_attribute("data-count", "2")
    expect(page.locator("[data-testid=risk-table] tbody tr")).to_have_count(12)
    heat_map.screenshot(path=screenshots / "thinktank-heat-map-chart.png")
    path = screenshots / "thinktank-risk-heat-map.png"
    page.screenshot(path=path, full_page=True)
    assert png_size(path)[1] >= 1000


def _collect_csp(message: ConsoleMessage, violations: list[str]) -> None:
    if "Content Security Policy" in message.text or "Refused to" in message.text:
        violations.append(message.text)
