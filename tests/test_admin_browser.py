"""A reviewer's session in headless Chromium (Debian's chromium + chromedriver, through Selenium).

The reviewer signs in, opens the queue, plays a track (its ``currentTime`` advances), rejects one
with a reason and takes one down through the confirmation page. Screenshots are kept in
var/artifacts/review-*.png to be looked at.
"""

import shutil
from pathlib import Path

import pytest

from generation.models import ReviewEvent, Track, TrackStatus
from tests.generation.reviewing import PASSWORD, reviewer, stored_track

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromedriver"), reason="needs Debian's chromium and chromium-driver"),
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "artifacts"


def _shot(browser, name: str, *, full: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if full:  # the whole page, not only the window
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1400, min(max(1000, height + 40), 6000))
    browser.save_screenshot(str(ARTIFACTS / f"review-{name}.png"))
    browser.set_window_size(1400, 1000)


def test_a_reviewer_listens_rejects_one_and_takes_one_down(live_server, browser, local_media, settings, licence_key):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    rita = reviewer("rita@example.com")
    listener_tracks = [
        stored_track(title="Calm piano in D", seed=1, pictures=True, copy_of=("airdsAirs/book1.abc#19", 9)),
        stored_track(title="Tense strings in C minor", seed=2, style="chamber", mood="tense"),
        stored_track(title="Happy folk in G", seed=4, style="folk", mood="happy"),
    ]
    keep, reject, take_down = listener_tracks
    wait = WebDriverWait(browser, 30)

    browser.get(live_server.url + "/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(rita.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(lambda d: "/admin/login" not in d.current_url)

    # the queue opens on what waits for review
    browser.get(live_server.url + "/admin/generation/track/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 3
    assert "Waiting for a decision" in browser.find_element(By.ID, "changelist-filter").text
    # play the first track from the queue: its currentTime advances
    player = browser.find_element(By.CSS_SELECTOR, f"audio[data-track='{keep.id}']")
    browser.execute_script("arguments[0].play();", player)
    wait.until(lambda d: d.execute_script("return arguments[0].currentTime", player) > 1.2)
    assert browser.execute_script("return arguments[0].error", player) is None
    _shot(browser, "queue")

    # the track page: evidence side by side
    browser.get(f"{live_server.url}/admin/generation/track/{keep.id}/change/")
    page = browser.page_source
    assert "Requested and measured" in page and "Loudness" in page and "airdsAirs/book1.abc#19" in page
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".lazy-evidence.loaded")) == 2)
    assert "measured on the stored file" in browser.find_element(By.CSS_SELECTOR, ".field-loudness_per_rendition").text
    images = browser.find_elements(By.CSS_SELECTOR, "img.evidence, img.passage")
    assert len(images) == 3
    assert all(browser.execute_script("return arguments[0].naturalWidth", img) > 100 for img in images)
    _shot(browser, "track", full=True)

    # reject one from the queue, in bulk mode, with a reason
    browser.get(live_server.url + "/admin/generation/track/")
    browser.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{reject.id}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("reject")
    browser.find_element(By.CSS_SELECTOR, "button[name=index], .actions button").click()
    wait.until(lambda d: "Reject: 1 track?" in d.page_source)
    browser.find_element(By.ID, "id_reason").send_keys("Clipping in bar 3; the bass drowns the tune.")
    _shot(browser, "reject-confirm")
    browser.find_element(By.ID, "confirm-decision").click()
    wait.until(lambda d: "Rejected 1 track" in d.find_element(By.CSS_SELECTOR, ".messagelist").text)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 2

    # take one down from its page: the confirmation lists the files, the reason is required
    browser.get(f"{live_server.url}/admin/generation/track/{take_down.id}/change/")
    browser.find_element(By.CSS_SELECTOR, "a.decision-take_down").click()
    wait.until(lambda d: "Take down: 1 track?" in d.page_source)
    files = browser.find_elements(By.CSS_SELECTOR, ".decide-files tbody tr")
    assert len(files) == 6  # two renditions, their C2PA manifests, two MIDI files
    browser.find_element(By.ID, "confirm-decision").click()  # no reason: the browser does not submit
    assert "Take down: 1 track?" in browser.page_source
    browser.find_element(By.ID, "id_reason").send_keys("Rights holder's notice #42: the melody is theirs.")
    _shot(browser, "take-down-confirm", full=True)
    browser.find_element(By.ID, "confirm-decision").click()
    wait.until(lambda d: "Took down 1 track" in d.find_element(By.CSS_SELECTOR, ".messagelist").text)
    assert "stored file(s) were removed" in browser.page_source
    _shot(browser, "taken-down", full=True)

    assert {t.title: t.status for t in Track.objects.all()} == {
        keep.title: TrackStatus.IN_REVIEW, reject.title: TrackStatus.REJECTED, take_down.title: TrackStatus.TAKEN_DOWN}
    assert sorted((e.action, e.reviewer_id, e.reason) for e in ReviewEvent.objects.all()) == [
        ("reject", rita.id, "Clipping in bar 3; the bass drowns the tune."),
        ("take_down", rita.id, "Rights holder's notice #42: the melody is theirs."),
    ]
