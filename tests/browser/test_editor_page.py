"""The editor's page in a real browser, through the whole stack: sign-in, the form, the live
timeline with green and red clips, Regenerate, a reload mid-run and an API restart."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import FloatRect, Locator, Page, expect

from shared.status import TERMINAL_STATUSES

pytestmark = pytest.mark.browser

RED = "rgb(179, 38, 30)"
LIVE_S = 60_000
"""How long (ms) an `expect` waits for something the pipeline does."""


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def sign_in_by_link(page: Page, stack: Any, path: str = "/") -> None:
    page.goto(f"{stack.api_url}{path}?token={stack.token}")


def clip(page: Page, name: str) -> Locator:
    """The clip whose label starts with `name`, e.g. "Image s2"."""
    return page.locator(f'li.clip[aria-label^="{name}:"]')


def page_statuses(page: Page) -> dict[str, str]:
    statuses: dict[str, str] = page.eval_on_selector_all(
        "li.clip", "els => Object.fromEntries(els.map(e => [e.dataset.assetId, e.dataset.status]))"
    )
    return statuses


def box(locator: Locator) -> FloatRect:
    """Where the element is on the page; it must be visible."""
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not visible"
    return found


def logged_seqs(page: Page) -> list[int]:
    return [
        int(s)
        for s in page.eval_on_selector_all(".activity li", "els => els.map(e => e.dataset.seq)")
    ]


def all_terminal(page: Page) -> bool:
    statuses = page_statuses(page)
    return bool(statuses) and set(statuses.values()) <= TERMINAL_STATUSES


def test_a_wrong_token_is_refused_clearly_and_the_right_one_signs_in(
    page: Page, stack: Any
) -> None:
    page.goto(stack.api_url)
    page.get_by_label("API token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The API refused this token")
    expect(alert).to_contain_text("not valid")
    expect(page.get_by_label("API token")).to_be_focused()

    page.get_by_label("API token").fill(stack.token)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Lectures", level=1)).to_be_visible()


def test_a_token_link_signs_in_once_and_leaves_the_address_bar(page: Page, stack: Any) -> None:
    sign_in_by_link(page, stack)

    expect(page.get_by_role("heading", name="Lectures", level=1)).to_be_visible()
    assert "token" not in page.url
    page.reload()
    expect(page.get_by_role("heading", name="Lectures", level=1)).to_be_visible()


def test_a_link_with_a_wrong_token_asks_to_sign_in_again(page: Page, stack: Any) -> None:
    page.goto(f"{stack.api_url}/?token=wrong-token")

    expect(page.get_by_role("alert")).to_contain_text("The API refused the token (401)")
    expect(page.get_by_label("API token")).to_be_visible()
    assert "token" not in page.url


def test_a_lecture_made_in_the_form_turns_green_and_red_live_and_a_rejected_clip_regenerates(
    page: Page, stack: Any, screenshots: Path
) -> None:
    sign_in_by_link(page, stack)
    unlabelled = page.eval_on_selector_all(
        "input, select, textarea", "els => els.filter(e => e.labels.length === 0).map(e => e.name)"
    )
    assert unlabelled == []
    page.get_by_label("Title").fill("The lighthouse of Alexandria")
    page.get_by_label("Image prompt").fill("the Pharos at dusk, oil painting")
    page.get_by_label("Narration text").fill("The Pharos guided ships for a thousand years.")
    page.get_by_role("button", name="Add segment").click()
    page.get_by_label("Image prompt").nth(1).fill("[[sim:sensitive]] ships wrecked in a storm")
    page.get_by_role("button", name="Add segment").click()
    page.get_by_label("Image prompt").nth(2).fill("[[sim:transient x9]] the keeper's stairs")
    page.get_by_label("Video prompt (optional)").nth(2).fill("waves against the tower")
    page.get_by_label("Music prompt (optional)").fill("calm harbour strings")
    expect(page.get_by_label("Image model")).to_have_value("black-forest-labs/flux-schnell")
    page.get_by_role("button", name="Create lecture").click()

    expect(page).to_have_url(re.compile(r"/lectures/[^/?]+$"))
    expect(page.get_by_role("heading", name="The lighthouse of Alexandria")).to_be_visible()
    for track in ("Visual", "Video", "Narration", "Music"):
        expect(page.get_by_role("region", name=f"{track} track")).to_be_visible()
    timeline_height = box(page.locator(".timeline"))["height"]
    first_box = box(clip(page, "Image s1"))
    retrying = clip(page, "Image s3")
    expect(retrying.locator(".next-try")).to_contain_text("next try at", timeout=LIVE_S)
    expect(retrying.locator(".attempt")).to_contain_text("attempt")
    expect(retrying.locator(".last-error")).to_contain_text("TRANSIENT_PROVIDER_ERROR")

    expect(clip(page, "Image s1")).to_have_attribute("data-status", "generated", timeout=LIVE_S)
    expect(clip(page, "Image s1").locator("img")).to_be_visible()
    expect(clip(page, "Narration s1")).to_have_attribute("data-status", "generated", timeout=LIVE_S)
    narration = clip(page, "Narration s1").locator("audio")
    expect(narration).to_have_count(1)
    narration.evaluate(  # the media route serves what <audio> asks for (ranges included)
        "a => a.readyState >= 1 || new Promise(ok => a.addEventListener('loadedmetadata', ok))"
    )
    assert narration.evaluate("a => a.duration") > 0
    expect(clip(page, "Video s3").locator("video")).to_have_count(1, timeout=LIVE_S)
    rejected = clip(page, "Image s2")
    expect(rejected).to_have_attribute("data-status", "needs_prompt_update", timeout=LIVE_S)
    expect(rejected).to_contain_text("The provider rejected the prompt.")
    expect(rejected).to_contain_text("SENSITIVE_CONTENT")
    expect(rejected.locator(".provider-message")).to_contain_text("sensitive")
    expect(retrying).to_have_attribute("data-status", "failed", timeout=LIVE_S)
    expect(retrying).to_contain_text("TRANSIENT_PROVIDER_ERROR")
    assert retrying.evaluate("e => getComputedStyle(e).borderTopColor") == RED
    expect(page.locator("#announcer")).not_to_be_empty()
    wait_until(lambda: all_terminal(page), timeout_s=60, what="every clip to end")
    page.wait_for_function("[...document.images].every(img => img.complete)")
    # No layout jump: media and outcomes filled boxes whose size was fixed from the start.
    assert box(page.locator(".timeline"))["height"] == timeline_height
    assert box(clip(page, "Image s1")) == first_box
    page.screenshot(path=screenshots / "timeline-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(rejected).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshots / "timeline-narrow.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    # By keyboard: the clip's button opens the editor, Tab reaches Regenerate.
    rejected.get_by_role("button", name="Edit and regenerate Image s2").focus()
    page.keyboard.press("Enter")
    prompt = page.get_by_label("Prompt", exact=True)
    expect(prompt).to_be_focused()
    expect(prompt).to_have_value("[[sim:sensitive]] ships wrecked in a storm")
    expect(page.get_by_label("Model", exact=True)).to_have_value("black-forest-labs/flux-schnell")
    expect(page.locator(".editor .banner")).to_contain_text("The provider rejected the prompt")
    prompt.fill("a calm sea at dawn [[sim:latency=2]]")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Regenerate", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(rejected).to_have_attribute("data-status", "pending")
    expect(rejected).to_have_attribute("data-status", "generated", timeout=LIVE_S)
    expect(rejected.locator("img")).to_be_visible()
    expect(page.locator(".activity li[data-type='asset.regeneration-requested']")).to_have_count(1)

    retrying.get_by_role("button", name="Edit and regenerate Image s3").click()
    expect(page.locator(".editor .banner")).to_contain_text("Generation failed")
    page.get_by_label("Prompt", exact=True).fill("the keeper's stairs, seen from below")
    page.get_by_role("button", name="Regenerate", exact=True).click()
    expect(retrying).to_have_attribute("data-status", "generated", timeout=LIVE_S)

    page.get_by_role("link", name="All lectures").click()
    row = page.get_by_role("row").filter(has_text="The lighthouse of Alexandria")
    expect(row).to_contain_text("6 generated")
    expect(row).not_to_contain_text("failed")


def lecture_of(tag: str, latencies: list[float]) -> dict[str, Any]:
    return {
        "title": f"Harbours {tag}",
        "segments": [
            {"duration_s": 4, "image": {"prompt": f"harbour {i} [[sim:latency={s}]] ({tag})"}}
            for i, s in enumerate(latencies)
        ]
        + [{"duration_s": 4, "image": {"prompt": f"[[sim:transient x2]] quay ({tag})"}}],
    }


def test_a_reload_in_the_middle_of_a_run_shows_the_same_state(page: Page, stack: Any) -> None:
    accepted = stack.create(lecture_of("reload", [1, 2, 4, 6]))
    lecture_id = accepted["lecture_id"]
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/v1/" in r.url else None)
    sign_in_by_link(page, stack, f"/lectures/{lecture_id}")
    expect(page.locator(".activity li").first).to_be_visible(timeout=LIVE_S)
    expect(page.locator("li.clip[data-status='generated']").first).to_be_visible(timeout=LIVE_S)
    assert not all_terminal(page), "the run ended before the reload; make it longer"
    before = page.locator(".activity li").all_inner_texts()

    page.reload()

    assert page.url.endswith(f"/lectures/{lecture_id}")
    expect(page.get_by_role("heading", name="Harbours reload")).to_be_visible()
    expect(page.locator(".activity li").nth(len(before) - 1)).to_be_visible()
    assert page.locator(".activity li").all_inner_texts()[: len(before)] == before
    wait_until(lambda: all_terminal(page), timeout_s=60, what="every clip to end")
    assert page_statuses(page) == stack.statuses(lecture_id)
    # Live means the stream, never polling: each page load read once and subscribed once.
    paths = sorted(urlsplit(url).path for url in calls)
    lecture = f"/v1/lectures/{lecture_id}"
    once = [lecture, f"{lecture}/events", f"{lecture}/timeline", "/v1/models"]
    assert paths == sorted(once * 2), paths


def test_an_api_restart_while_the_page_is_open_misses_and_doubles_no_update(
    page: Page, stack: Any
) -> None:
    accepted = stack.create(lecture_of("restart", [2, 4, 6, 8]))
    lecture_id = accepted["lecture_id"]
    sign_in_by_link(page, stack, f"/lectures/{lecture_id}")
    connection = page.locator("#connection")
    expect(connection).to_have_text("live", timeout=LIVE_S)
    expect(page.locator(".activity li").first).to_be_visible(timeout=LIVE_S)

    # The API stays down until the pipeline has moved on without it, then comes back: the
    # page must show what happened meanwhile, once each, however long the outage lasted.
    with stack.restarts_held():
        stack.kill_api()
        wait_until(lambda: not stack.api_listens(), timeout_s=30, what="the API's port to close")
        down_at = datetime.now(UTC)
        expect(connection).to_have_text("reconnecting…")
        wait_until(
            lambda: stack.events_since(lecture_id, down_at) > 0,
            timeout_s=60,
            what="an event while the API is down (did the run end before the restart?)",
        )
    stack.wait_for_api_restart()
    wait_until(stack.api_listens, timeout_s=60, what="the API's port to open again")
    expect(connection).to_have_text("live", timeout=LIVE_S)
    live_again_at = datetime.now(UTC)
    wait_until(lambda: all_terminal(page), timeout_s=90, what="every clip to end")
    feed = stack.feed(lecture_id)
    while_down = [seq for seq, at in feed if down_at < at < live_again_at]
    assert while_down, "no event happened while the API was down; the test proves nothing"
    seqs = [seq for seq, _ in feed]
    assert logged_seqs(page) == seqs == list(range(1, len(feed) + 1))
    assert page_statuses(page) == stack.statuses(lecture_id)
