"""Screenshots of the running sandbox for the README (Debian's chromium through Playwright).

    python scripts/screenshots.py [--url http://127.0.0.1:8000] [--out docs/screenshots]

Needs the sandbox running (make sandbox) with at least one generation job done.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--email", default="staff@example.com")
    parser.add_argument("--password", default="oscar-gpt-demo")
    parser.add_argument("--job", type=int, help="the job page to capture")
    parser.add_argument(
        "--product", help="a product page path to capture, e.g. /en-gb/catalogue/x_1/"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{args.url}/en-gb/accounts/login/")
        page.fill("#id_login-username", args.email)
        page.fill("#id_login-password", args.password)
        page.click("button[name=login_submit]")
        page.goto(f"{args.url}/en-gb/dashboard/gpt/drafts/")
        page.screenshot(path=out / "drafts.png")
        href = page.locator("#draft-list a.btn").first.get_attribute("href")
        page.goto(f"{args.url}{href}")
        page.screenshot(path=out / "draft-review.png", full_page=True)
        if args.job:
            page.goto(f"{args.url}/en-gb/dashboard/gpt/jobs/{args.job}/")
            page.screenshot(path=out / "job.png")
        if args.product:
            page.goto(f"{args.url}{args.product}")
            page.screenshot(path=out / "product.png")
        browser.close()


if __name__ == "__main__":
    main()
