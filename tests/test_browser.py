"""The admin review page in headless Chromium (Debian's chromium + chromedriver); the web player's
session is tests/test_player_browser.py.

Screenshots land in var/screenshots/ to be looked at.
"""

import shutil
from pathlib import Path

import pytest

from generation.models import TrackStatus
from tests.factories import PublishedTrackFactory, UserFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromedriver"), reason="needs Debian's chromium and chromium-driver"),
]
SHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _screenshots():
    SHOTS.mkdir(parents=True, exist_ok=True)


def test_staff_review_a_track_in_the_admin(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    UserFactory(email="charlie@example.com", is_staff=True, is_superuser=True)
    track = PublishedTrackFactory(title="Tense strings in C minor", status=TrackStatus.IN_REVIEW,
                                  measured={"key_tonic": 0, "mode": "minor"})
    browser.get(live_server.url + "/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("charlie@example.com")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda driver: "/admin/login" not in driver.current_url)
    browser.get(f"{live_server.url}/admin/generation/track/?status__exact=in_review")
    assert "Tense strings in C minor" in browser.page_source
    browser.save_screenshot(str(SHOTS / "admin-queue.png"))
    browser.get(f"{live_server.url}/admin/generation/track/{track.id}/change/")
    assert "piano roll" in browser.page_source.lower()
    browser.save_screenshot(str(SHOTS / "admin-track.png"))
