"""The web player at ``/`` in headless Chromium (Debian's chromium + chromedriver, through Selenium).

The server is a real ``runserver`` on a random port with no CADENZA_SITE_URL (tests/live.py), its
signed URLs and access tokens living 20 s (``CADENZA_SIGNED_URL_TTL``, ``JWT_ACCESS_SECONDS``), its
tracks real AAC files in its media folder. A listener signs in at 390×844, plays, skips (the skip
and its position reach the database), likes (the like survives a reload, and can be taken back),
leaves the player idle for 30 s and it still plays and likes (fresh signed URLs, a refreshed token),
lets a track end (the next one starts), edits preferences, composes (one job for a double click),
and signs out. The screenshot is var/artifacts/player-390x844.png; the page-load time is printed.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.live import call, manage, running_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("chromedriver"), reason="needs Debian's chromium and chromium-driver"),
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "artifacts"
EMAIL, PASSWORD = "dora@example.com", "correct horse battery staple"
TTL_S = 20
SEED = f"""
from generation.models import TrackStatus
from tests.factories import UserFactory
from tests.generation.reviewing import stored_track
dora = UserFactory(email={EMAIL!r}, display_name="Dora")
for n in range(6):
    stored_track(dora, status=TrackStatus.PRIVATE, seed=20 + n, title=f"Dora's piece no. {{n + 1}}")
"""
# What a listener's assistive technology would call each control (a simplified accessible name).
ACCESSIBLE_NAMES = """
return [...document.querySelectorAll('button, input, select, progress, a[href]')]
  .filter(el => el.type !== 'hidden')
  .map(el => {
    const labelled = el.getAttribute('aria-labelledby');
    const name = (el.getAttribute('aria-label') || (labelled && document.getElementById(labelled)?.textContent)
      || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent || el.title || '').trim();
    return [el.id || el.name || el.outerHTML.slice(0, 60), name];
  });
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("player")
    settings = {"CADENZA_SIGNED_URL_TTL": str(TTL_S), "JWT_ACCESS_SECONDS": str(TTL_S),
                "CADENZA_RECS_MIN_READY": "0",  # no compose-ahead jobs: the queue is the six tracks
                "CADENZA_RECS_DIGEST_DEBOUNCE_S": "1"}  # no worker: a read catches up on events
    with running_server(folder, **settings) as base:
        manage(folder, "shell", "-c", SEED, **settings)
        yield base, folder / "live.sqlite3"


def events(database: Path, kind: str | None = None) -> list[tuple[str, str, int]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT track_id, kind, position_ms FROM recommendations_listeningevent ORDER BY id").fetchall()
    return [(str(uuid.UUID(t)), k, p) for t, k, p in rows if kind is None or k == kind]


def jobs(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT COUNT(*) FROM generation_generationjob").fetchone()[0]


def test_a_listener_plays_skips_likes_and_comes_back_later(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, database = server
    wait = WebDriverWait(browser, 30)
    js = browser.execute_script
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    assert ":8000" not in base

    def now_playing() -> str:
        return js("return JSON.parse(sessionStorage.getItem('cadenza.now') || '{}').track || ''")

    def position() -> float:
        return js("return document.getElementById('audio').currentTime")

    def until(condition, what: str):
        """Wait for ``condition``; on a timeout, say what the page showed."""
        from selenium.common.exceptions import TimeoutException

        try:
            return wait.until(condition)
        except TimeoutException:
            seen = js("const a = document.getElementById('audio'); return {status: document.getElementById('status')"
                      ".textContent, now: sessionStorage.getItem('cadenza.now'), at: a.currentTime, paused: a.paused,"
                      " error: a.error && a.error.code, src: a.src, outbox: document.body.dataset.outbox};")
            raise AssertionError(f"{what}: {seen}") from None

    def press(element):
        """Scroll it above the player bar, as a listener would, and click it."""
        js("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def delivered():
        until(lambda d: d.execute_script("return document.body.dataset.outbox") == "0", "events delivered")

    def playing_elements() -> int:
        return js("return [...document.querySelectorAll('audio, video')].filter(a => !a.paused).length")

    # the page, its load time, its favicon
    browser.get(base + "/")
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    timing = js("const n = performance.getEntriesByType('navigation')[0];"
                "return {domContentLoaded: n.domContentLoadedEventEnd, loadEventEnd: n.loadEventEnd,"
                " transferSize: n.transferSize};")
    icon = browser.find_element(By.CSS_SELECTOR, "link[rel=icon]").get_attribute("href")
    with urllib.request.urlopen(icon) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("image/svg")

    # a wrong password is said in words from the API's error body
    browser.find_element(By.NAME, "email").send_keys(EMAIL)
    browser.find_element(By.NAME, "password").send_keys("not the password")
    browser.find_element(By.ID, "sign-in-submit").click()
    wait.until(lambda d: d.find_element(By.ID, "sign-in-error").text)
    message = browser.find_element(By.ID, "sign-in-error").text
    assert "ErrorDetail" not in message and "{" not in message and len(message) > 10

    # sign in: the queue is the personal playlist, each track with its reason
    browser.find_element(By.NAME, "password").clear()
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in-submit").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue li[data-track]")) >= 5)
    assert browser.find_element(By.ID, "who").text == "Dora"
    reasons = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue li[data-track] .reason")]
    assert all(reasons), reasons
    assert js("return document.querySelectorAll('audio').length") == 1

    # play: currentTime advances, through a relative signed URL on this server's port
    browser.find_element(By.ID, "play").click()
    wait.until(lambda d: position() > 1.2)
    first = now_playing()
    src = js("return document.getElementById('audio').src")
    assert src.startswith(base + "/objects/"), src
    assert playing_elements() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "player-390x844.png"))
    assert js("return document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert "Playing" in browser.find_element(By.ID, "status").text
    assert browser.find_element(By.ID, "status").get_attribute("aria-live") == "polite"

    # skip: the next track plays, the skip and where it happened are stored
    at = position()
    browser.find_element(By.ID, "skip").click()
    wait.until(lambda d: now_playing() != first and position() > 0.5)
    second = now_playing()
    assert playing_elements() == 1  # only one track at a time
    delivered()
    skips = [(t, p) for t, _, p in events(database, "skip")]
    assert len(skips) == 1 and skips[0][0] == first
    assert at * 1000 - 100 <= skips[0][1] <= at * 1000 + 1500, (at, skips)

    # like: remembered by the server, so it survives a reload; and it can be taken back
    browser.find_element(By.ID, "like").click()
    assert browser.find_element(By.ID, "like").get_attribute("aria-pressed") == "true"
    delivered()
    assert (second, "like") in [(t, k) for t, k, _ in events(database)]
    browser.refresh()
    wait.until(lambda d: now_playing() == second and d.find_elements(By.CSS_SELECTOR, "#queue li.current"))
    wait.until(lambda d: d.find_element(By.ID, "like").get_attribute("aria-pressed") == "true")
    browser.find_element(By.ID, "like").click()
    assert browser.find_element(By.ID, "like").get_attribute("aria-pressed") == "false"
    delivered()
    browser.refresh()
    wait.until(lambda d: now_playing() == second and d.find_elements(By.CSS_SELECTOR, "#queue li.current"))
    wait.until(lambda d: d.find_element(By.ID, "like").is_enabled())
    assert browser.find_element(By.ID, "like").get_attribute("aria-pressed") == "false"
    assert [k for t, k, _ in events(database) if t == second and k in ("like", "unlike")] == ["like", "unlike"]

    # 30 s idle: every signed URL the page holds and its access token have expired; it still plays and likes
    token = js("return sessionStorage.getItem('cadenza.access')")
    time.sleep(TTL_S + 11)
    browser.find_element(By.ID, "skip").click()
    until(lambda d: now_playing() not in (first, second) and position() > 1.0, "plays after 30 s idle")
    third = now_playing()
    assert js("return document.getElementById('audio').error") is None
    browser.find_element(By.ID, "like").click()
    delivered()
    assert (third, "like") in [(t, k) for t, k, _ in events(database)]
    assert js("return sessionStorage.getItem('cadenza.access')") != token  # refreshed on the 401, then retried
    fetched = js("return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)")
    assert "/api/v1/auth/token/refresh" in fetched and f"/api/v1/tracks/{third}" in fetched  # fresh URLs

    # the next track starts when one ends (the tracks are 8.5 s long)
    until(lambda d: now_playing() not in (first, second, third) and position() > 0.3, "the next track starts")
    delivered()
    assert (third, "complete") in [(t, k) for t, k, _ in events(database)]
    assert playing_elements() == 1
    browser.find_element(By.ID, "play").click()  # pause

    # preferences: an editor for every field the schema lists; a mistake is said in words
    press(browser.find_element(By.ID, "prefs-toggle"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#prefs-fields [data-field]"))
    js("document.getElementById('prefs-title').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "player-390x844-preferences.png"))
    schema = json.loads(urllib.request.urlopen(base + "/api/schema/?format=json").read())
    fields = {name for name, spec in schema["components"]["schemas"]["PreferencesInputRequest"]["properties"].items()
              if not spec.get("readOnly")}  # version, created_at: sent back as GET gave them, not edited
    shown = {e.get_attribute("data-field") for e in browser.find_elements(By.CSS_SELECTOR, "#prefs-fields [data-field]")}
    assert shown == fields
    tempo_min = browser.find_element(By.ID, "pref-tempo_min")
    tempo_min.clear()
    tempo_min.send_keys("200")
    press(browser.find_element(By.ID, "prefs-save"))
    wait.until(lambda d: d.find_element(By.ID, "pref-error-tempo_min").text)
    assert "tempo_max" in browser.find_element(By.ID, "pref-error-tempo_min").text
    tempo_min.clear()
    tempo_min.send_keys("60")
    press(browser.find_element(By.CSS_SELECTOR, "#prefs-fields input[value=folk]"))
    press(browser.find_element(By.ID, "prefs-save"))
    wait.until(lambda d: "Preferences saved" in d.find_element(By.ID, "status").text)
    access = call(base, "POST", "/api/v1/auth/token", {"email": EMAIL, "password": PASSWORD})[1]["access"]
    status, saved = call(base, "GET", "/api/v1/me/preferences", token=access)
    assert status == 200 and saved["tempo_min"] == 60

    # every control has an accessible name (the editor's too)
    unnamed = [id_ for id_, name in js(ACCESSIBLE_NAMES) if not name]
    assert unnamed == []

    # compose: a double click makes one job, its progress is shown and the button waits for it
    before = jobs(database)
    button = browser.find_element(By.ID, "compose-submit")
    js("arguments[0].click(); arguments[0].click();", button)
    wait.until(lambda d: d.find_element(By.ID, "compose-progress").is_displayed())
    wait.until(lambda d: d.execute_script("return sessionStorage.getItem('cadenza.job')"))
    time.sleep(1)
    assert jobs(database) == before + 1  # (no worker reads this server's queue: it stays queued)
    assert not button.is_enabled()
    assert "Queued" in browser.find_element(By.ID, "compose-stage").text

    # sign out: the refresh token no longer works
    refresh = js("return sessionStorage.getItem('cadenza.refresh')")
    browser.find_element(By.ID, "sign-out").click()
    wait.until(lambda d: d.find_element(By.ID, "sign-in-view").is_displayed())
    assert call(base, "POST", "/api/v1/auth/token/refresh", {"refresh": refresh})[0] == 401
    # signed out, the page shows the sign-in form only: no account menu, no player bar, and the
    # display name only once "Create an account" is asked for
    hidden = ("sign-out", "account", "bar", "display-name-field")
    assert not [i for i in hidden if browser.find_element(By.ID, i).is_displayed()]
    browser.find_element(By.ID, "register-toggle").click()
    assert browser.find_element(By.ID, "display-name-field").is_displayed()
    assert playing_elements() == 0

    (ARTIFACTS / "player-timing.json").write_text(json.dumps(timing, indent=2))
    print(f"\nplayer page load: domContentLoaded {timing['domContentLoaded']:.0f} ms, "
          f"loadEventEnd {timing['loadEventEnd']:.0f} ms, {timing['transferSize']} bytes (HTML)")
