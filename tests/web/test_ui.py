"""The admin UI and guest pages in a real headless Chromium (Debian's, via Playwright's
``executable_path``; nothing downloads a browser). Screenshots of every page go to
``test-artifacts/screenshots/``."""

import io
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.conftest import ADMIN_PASSWORD, ADMIN_USER, INGEST_PASSWORD, PHOTOS, Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def ui_server(fake_gemini, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ui")
    server = Service(f"sqlite+aiosqlite:///{data_dir / 'ui.db'}", data_dir, fake_gemini, name="ui")
    server.start()
    server.cli("admin", "create", ADMIN_USER, "--password", ADMIN_PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(ui_server):  # closed before the server stops: no kept-alive connection holds its shutdown
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, ui_server):
    context = browser.new_context(base_url=ui_server.base_url, locale="en-US", viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server.base_url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def login(page) -> None:
    page.goto("/ui/")
    page.wait_for_url(re.compile(r"#/login$"))
    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#slots .slot-card")


def image_loaded(page, selector: str, seconds: float = 15) -> None:
    """Wait until the image at ``selector`` has decoded. Polls from Python: Playwright's
    ``wait_for_function`` evaluates a string in the page, which the pages' CSP (no eval) refuses."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if page.locator(selector).evaluate("img => img.complete && img.naturalWidth > 0"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} did not load")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_errors_then_dashboard_with_copyable_ingest_url(page, ui_server):
    page.goto("/ui/")
    page.fill("input[name=username]", ADMIN_USER)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:has-text('Wrong username or password')")
    shot(page, "01-login-error")
    login(page)
    cards, inactive = page.locator("#slots .slot-card").count(), page.locator("#inactive-slots li").count()
    assert cards >= 1 and cards + inactive == 15  # inactive slots collapsed into one list
    page.click("[data-slot=slot-001] button:has-text('Copy')")
    assert page.evaluate("navigator.clipboard.readText()") == f"{ui_server.base_url}/api/ingest/slot-001"
    page.click("text=Show")
    assert page.inner_text("#ingest-password") == INGEST_PASSWORD
    assert "PHOTOCHANGER_PUBLIC_BASE_URL" in page.inner_text("#loopback-warning")  # guests cannot open 127.0.0.1
    shot(page, "02-dashboard")


def _frame_png() -> bytes:
    frame = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(frame).rectangle([0, 0, 399, 299], outline=(220, 0, 0, 255), width=24)
    buffer = io.BytesIO()
    frame.save(buffer, "PNG")
    return buffer.getvalue()


def test_slot_editor_saves_uploads_a_template_and_runs_a_test(page, tmp_path, ui_server):
    login(page)
    page.goto("/ui/#/slots/slot-001")
    page.wait_for_selector("#provider-settings")
    page.select_option("#setting-look", "bw")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".toast:has-text('Saved')")
    frame = tmp_path / "frame.png"
    frame.write_bytes(_frame_png())
    page.set_input_files("#template-file", str(frame))
    page.wait_for_selector("#templates figure img[src^='blob:']")
    assert page.locator("#prompt").is_hidden()  # local takes no prompt
    page.click("button:has-text('Add fallback')")  # fallback routes are a form, not JSON
    page.select_option("#fallback-1-provider", "local")
    page.select_option("#fallback-1-look", "sepia")
    assert page.locator("#fallback-1-prompt").is_hidden()
    page.click("button:has-text('Save')")
    page.wait_for_selector(".toast:has-text('Saved')")
    slot = ui_server.api.get("/api/slots/slot-001").json()
    assert slot["fallbacks"] == [{"provider": "local", "settings": {"look": "sepia"}, "prompt": None}]
    page.set_input_files("#test-file", str(PHOTOS / "astronaut.jpg"))
    page.click("#run-test")
    page.wait_for_selector("#test-result, #test-output .field-error", timeout=30000)
    assert page.locator("#test-result").count(), page.inner_text("#test-output")
    image_loaded(page, "#test-result")
    assert "Attempts: local" in page.inner_text("#test-output")
    page.wait_for_selector("#recent-results figure img")  # the test's result joins the recent ones, no reload
    page.fill("#display_name", "Wedding booth")
    page.click("#save-slot")
    page.wait_for_selector("main h1:has-text('Wedding booth (slot-001)')")  # a rename shows at once
    shot(page, "03-slot-editor")
    page.select_option("#provider", "gemini")  # fields come from the provider catalogue's JSON Schema
    assert page.inner_text("#key-missing") == ""  # the environment's key counts as configured
    models = page.locator("#setting-model option").all_inner_texts()
    assert models == [
        "gemini-2.5-flash-image",
        "gemini-3-pro-image-preview",
        "gemini-3-pro-image",
        "gemini-3.1-flash-image",
    ]
    assert page.locator("#setting-image_size option").count() == 5 and page.locator("#hedging").count() == 1
    assert page.locator("#people_check").count() == 1 and "{name}" in page.inner_text("form")
    page.fill("#prompt", "")  # Gemini needs a prompt: the API's error shows at the field
    page.click("button:has-text('Save')")
    page.wait_for_selector("#prompt-error:has-text('needs a prompt')")
    messages = []
    page.on("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.click("nav >> text=Jobs")
    page.wait_for_timeout(300)
    assert messages and "unsaved" in messages[0] and "#/slots/slot-001" in page.url
    ui_server.api.put("/api/slots/slot-001", json={"fallbacks": []})


def test_rerun_shows_its_result_and_a_template_is_removed_only_when_confirmed(page, ui_server, tmp_path):
    ui_server.api.put("/api/slots/slot-002", json={"is_active": True, "provider": "local"})
    assert ui_server.post("slot-002", PHOTOS / "astronaut.jpg").status == 200
    login(page)
    page.goto("/ui/#/slots/slot-002")
    page.click("button.rerun >> nth=0")
    image_loaded(page, ".rerun-result img")  # the new result, not just "Saved"
    frame = tmp_path / "frame.png"
    frame.write_bytes(_frame_png())
    page.set_input_files("#template-file", str(frame))
    page.wait_for_selector("#templates figure img.whole[src^='blob:']")  # the whole frame, on a checkerboard
    page.wait_for_selector(".aspect-warning:has-text('400×300')")  # 4:3 frame, the booth's last photo is 512×512
    answers = iter([False, True])
    page.on("dialog", lambda dialog: dialog.accept() if next(answers) else dialog.dismiss())
    page.click("#templates button.danger")
    page.wait_for_timeout(300)
    assert page.locator("#templates figure").count() == 1  # dismissed: still there
    page.click("#templates button.danger")
    page.wait_for_selector("#templates figure", state="detached")
    page.goto("/ui/#/gallery")
    page.fill("#share-minutes", "0")
    page.click("#share")
    page.wait_for_selector(".toast.error:has-text('must be at least 1')")  # a sentence, not "body.minutes: …"
    assert "body." not in page.inner_text("#toast")


def test_booth_ingest_appears_in_jobs_gallery_and_the_shared_public_page(page, browser, ui_server):
    r = ui_server.post("slot-001", PHOTOS / "astronaut.jpg")
    assert r.status == 200
    job_id = r.headers["x-job-id"]
    login(page)
    page.goto("/ui/#/jobs")
    page.wait_for_selector("#jobs-body tr")
    page.select_option("#filter-source", "ingest")
    page.select_option("#filter-since", "1h")
    page.wait_for_selector(f"#jobs-body a[href='#/jobs/{job_id}']")
    page.wait_for_selector("#last-requests dd:has-text('DESKTOP-K968T3F')", state="attached")  # a booth field
    page.wait_for_selector(f"#last-requests a[href='#/jobs/{job_id}']")  # each request links to its job
    assert page.locator("#load-more").is_hidden()  # one page only
    shot(page, "04-jobs")
    page.click(f"#jobs-body a[href='#/jobs/{job_id}']")
    page.wait_for_selector("#attempts td:has-text('local')")
    image_loaded(page, "#job-original")
    shot(page, "05-job-detail")
    page.goto("/ui/#/gallery")
    page.fill("#share-minutes", "5")
    page.check("#share-earlier")  # the photo was taken before sharing
    assert page.locator("button.approve-photo").count() == 0  # approval is off: no approval buttons
    page.check("#share-approval")  # guests see only photos the studio approved
    page.click("#share")
    page.wait_for_selector("#share-state:has-text('Shared')")
    image_loaded(page, f"figure[data-job='{job_id}'] img")  # photos, not "[object HTMLElement]" text
    assert any("(slot-001)" in head for head in page.locator("#gallery-slots h2").all_inner_texts())  # name (id)
    image_loaded(page, "#gallery-qr")  # for a second screen
    assert "[object" not in page.inner_text("main")
    page.click(f"figure[data-job='{job_id}'] button.approve-photo")  # for galleries shared with approval
    page.wait_for_selector(f"figure[data-job='{job_id}'] button.withdraw-photo")
    assert ui_server.api.get(f"/api/jobs/{job_id}").json()["approved_at"]
    shot(page, "06-gallery")
    guest = browser.new_context(base_url=ui_server.base_url, viewport={"width": 390, "height": 844}, locale="en-US")
    public = guest.new_page()
    public.goto("/gallery")
    public.wait_for_selector(f"#photos a[href='/r/{job_id}'] img")
    shot(public, "07-public-gallery")
    public.click(f"#photos a[href='/r/{job_id}']")
    public.wait_for_selector("#download")
    image_loaded(public, ".qr")
    shot(public, "08-result-page")
    page.click(f"figure[data-job='{job_id}'] .hide-photo")  # moderation: hide it from guests
    page.wait_for_selector(f"figure[data-job='{job_id}'] .hidden-photo")
    public.goto("/gallery")
    public.wait_for_load_state("networkidle")
    assert public.locator(f"#photos a[href='/r/{job_id}']").count() == 0
    public.goto(f"/r/{job_id}")
    public.wait_for_selector("#unavailable:has-text('not available')")  # a friendly page, not the photo
    shot(public, "08b-hidden-result-page")
    page.click(f"figure[data-job='{job_id}'] .hide-photo")  # and show it again
    page.wait_for_selector(f"figure[data-job='{job_id}'] img")
    page.click("#stop-sharing")
    page.wait_for_selector("#share-state:has-text('Not shared')")
    public.goto("/gallery")
    public.wait_for_selector("#state:has-text('not shared')")
    guest.close()


def test_settings_and_statistics_pages(page, ui_server):
    ui_server.api.put(
        "/api/slots/slot-005", json={"is_active": True, "provider": "gemini", "prompt": "Make it a comic"}
    )
    assert ui_server.post("slot-005").status == 200  # a photo this hour: the statistics have a row, whatever ran before
    login(page)
    page.goto("/ui/#/settings")
    page.wait_for_selector("#sync_response_seconds")
    page.click("#test-key-gemini")  # a key is tested with one real request through the slots that use it
    page.wait_for_selector("#key-test-gemini:has-text('slot-005 · gemini:gemini-2.5-flash-image: success')")
    page.click("#test-key-openai")
    page.wait_for_selector("#key-test-openai:has-text('No active slot uses openai')")
    ui_server.api.put("/api/slots/slot-005", json={"is_active": False})
    page.fill("#sync_response_seconds", "30")
    page.dispatch_event("#sync_response_seconds", "input")
    page.click("#save-settings")
    page.wait_for_selector(".toast:has-text('Saved')")
    page.click("#cleanup")
    page.wait_for_selector("#cleanup-report:has-text('Removed')")
    page.fill("#key-openai", "sk-stored-abcd")  # a key saved in the UI shows at once, and can be removed
    page.click("#save-settings")
    page.wait_for_selector("#key-box-openai label:has-text('…abcd')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#remove-key-openai")
    page.wait_for_selector("#key-box-openai label:has-text('…-key')")  # the environment's key again
    assert page.locator("#remove-key-openai").count() == 0  # an environment key is not the UI's to remove
    shot(page, "09-settings")
    page.goto("/ui/#/stats")
    page.wait_for_selector("#slot-stats tbody tr")
    assert page.locator("svg.chart rect").count() >= 1
    # all photos fell in one hour: the p95 line is a tick at that hour, not a level line across the whole day
    xs = [float(pt.split(",")[0]) for pt in page.locator("svg.chart polyline").first.get_attribute("points").split()]
    assert max(xs) - min(xs) < 100
    shot(page, "10-stats")
    page.goto("/ui/#/settings")
    page.fill("#sync_response_seconds", "48")
    page.dispatch_event("#sync_response_seconds", "input")
    page.click("#save-settings")
    page.wait_for_selector(".toast:has-text('Saved')")


def test_the_dashboard_is_live_and_a_second_tab_shares_the_session(page, ui_server):
    login(page)
    r = ui_server.post("slot-001", PHOTOS / "astronaut.jpg")
    assert r.status == 200
    job_id = r.headers["x-job-id"]
    page.wait_for_selector(f"[data-slot=slot-001] a[href$='/{job_id}']", timeout=9000)  # no reload: ≤ 5 s polling
    second = page.context.new_page()
    second.goto(f"{ui_server.base_url}/ui/#/jobs")
    second.wait_for_selector(f"#jobs-body a[href='#/jobs/{job_id}']")  # logged in already
    second.close()


def test_the_jobs_page_is_live_its_filter_links_work_and_the_inactive_list_stays_open(page, ui_server):
    login(page)
    page.goto("/ui/#/jobs?status=done")  # a status link opens the filtered list, not the dashboard
    page.wait_for_selector("#filter-status")
    assert page.input_value("#filter-status") == "done"
    r = ui_server.post("slot-001", PHOTOS / "astronaut.jpg")
    assert r.status == 200
    page.wait_for_selector(f"#jobs-body a[href='#/jobs/{r.headers['x-job-id']}']", timeout=9000)  # no reload
    ui_server.api.put("/api/slots/slot-015", json={"is_active": False})
    page.goto("/ui/#/dashboard")
    page.click("#inactive-slots summary")
    with page.expect_response(lambda answer: "/api/stats/overview" in answer.url, timeout=9000):
        pass  # the dashboard's next refresh redraws the slot lists
    page.wait_for_timeout(300)
    assert page.locator("#inactive-slots details").get_attribute("open") is not None


def test_russian_on_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page)
    page.select_option("#lang", "ru")
    page.wait_for_selector("nav >> text=Слоты")
    page.wait_for_selector("#slots .slot-card >> text=Изменить")
    assert page.evaluate("document.documentElement.lang") == "ru"
    assert page.evaluate("document.documentElement.scrollWidth") <= 391  # no sideways scrolling
    shot(page, "11-dashboard-ru-phone")
    page.select_option("#lang", "en")
    page.wait_for_selector("nav >> text=Dashboard")


def test_a_failing_route_shows_a_banner_and_warm_up_reports_every_route(page, ui_server, fake_gemini):
    slot = {
        "provider": "gemini",
        "prompt": "Put them on a beach",
        "settings": {"model": "gemini-3-pro-image"},
        "fallbacks": [{"provider": "local", "settings": {"look": "warm"}}],
        "is_active": True,
    }
    assert ui_server.api.put("/api/slots/slot-004", json=slot).status_code == 200
    try:
        fake_gemini.reset(default="error_503")
        assert ui_server.post("slot-004").headers["x-photochanger-fallback"] == "route"  # the circuit opens
        login(page)
        page.wait_for_selector("#route-health li[data-route='gemini:gemini-3-pro-image']")
        banner = page.inner_text("#route-health")
        assert "failing" in banner and "slot-004" in banner and "server_error" in banner
        shot(page, "12-dashboard-route-failing")
        fake_gemini.reset()
        page.click("#warmup")
        page.wait_for_selector("#warmup-results table", timeout=60000)
        results = page.inner_text("#warmup-results")
        assert "gemini:gemini-3-pro-image" in results and "local:-" in results and "failed" not in results
        page.wait_for_selector("#route-health li[data-route='gemini:gemini-3-pro-image']", state="detached")
        shot(page, "13-dashboard-warm-up")
    finally:
        fake_gemini.reset()
        ui_server.api.put("/api/slots/slot-004", json={"is_active": False, "fallbacks": []})


# What a Russian page must not show: English UI words, raw codes and English units. Data the booth
# or an admin typed (fields, headers, prompts, model names) is excluded from the check.
ENGLISH = re.compile(
    r"\b(Dashboard|Jobs|Settings|Statistics|Gallery|Status|Source|Details|Received|Provider|Duration|Save"
    r"|Skip to content|Outcome|Attempts|Original|Result|Share|Log out|ingest|ui_test|rerun"
    r"|done|failed|pending|timeout|interrupted"
    r"|success|cancelled|template|background|style|face|invalid_password|rate_limited|unsupported_media_type|retries|fallbacks|max|ms|s)\b"
)
DATA = "dl.pairs, code, pre, .mono, textarea, input, select, option, #job-prompt, td.model"
PAGES = ["#/dashboard", "#/events", "#/slots/slot-001", "#/jobs", "#/jobs/{job}", "#/settings", "#/stats", "#/gallery"]


def test_every_page_in_russian_on_a_phone_has_no_english_and_no_sideways_scroll(browser, ui_server):
    ok = ui_server.post("slot-001", PHOTOS / "astronaut.jpg")
    assert ok.status == 200
    assert ui_server.post("slot-001", PHOTOS / "astronaut.jpg", password="wrong-password").status == 401
    context = browser.new_context(base_url=ui_server.base_url, locale="ru-RU", viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        login(page)
        page.select_option("#lang", "ru")
        page.wait_for_selector("nav >> text=Слоты")
        found = {}
        for route in PAGES:
            page.goto(f"/ui/{route.format(job=ok.headers['x-job-id'])}")
            page.wait_for_selector("main h1")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
            wide = page.evaluate(  # the page, or any table inside it, wider than the screen
                "Math.max(document.documentElement.scrollWidth,"
                " ...[...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right))"
            )
            text = page.evaluate(
                "(skip) => { const copy = document.body.cloneNode(true);"
                " copy.querySelectorAll(skip).forEach((el) => el.remove());"
                " copy.querySelectorAll('details').forEach((el) => el.setAttribute('open', ''));"
                " document.body.append(copy); copy.style.position = 'absolute';"
                " const text = copy.innerText; copy.remove(); return text; }",
                DATA,
            )
            shown = page.inner_text("body")
            english = sorted(set(ENGLISH.findall(text))) + [w for w in ("[object", "null", "undefined") if w in shown]
            if wide > 391 or english:
                found[route] = {"scroll_width": wide, "english": english}
            shot(page, f"20-ru-phone-{route.strip('#/').replace('/', '-').replace('{job}', 'detail')}")
        assert not found, found
    finally:
        context.close()
    assert not errors, errors


ENGLISH_MESSAGES = re.compile(
    r"\b(success|failed|needs a prompt|provider|Value error|no such|must be|Slot \d+|server_error|unexpected_response"
    r"|settings|invalid|unknown setting|fallback|Fallback|Attempts|Duration|alert|webhook|url)\b"
)


def test_in_russian_warm_up_test_runs_slot_names_and_error_messages_have_no_english(browser, ui_server):
    context = browser.new_context(base_url=ui_server.base_url, locale="ru-RU", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page)
        page.select_option("#lang", "ru")
        page.wait_for_selector("nav >> text=Слоты")
        page.click("#warmup")
        page.wait_for_selector("#warmup-results table")
        seen = {"warm-up": page.inner_text("#warmup-results"), "slot cards": page.inner_text("#slots")}
        page.goto("/ui/#/slots/slot-002")
        page.wait_for_selector("#provider-settings")
        seen["editor heading"] = page.inner_text("main h1")
        page.set_input_files("#test-file", str(PHOTOS / "astronaut.jpg"))
        page.click("#run-test")
        page.wait_for_selector("#test-result, #test-output .field-error", timeout=30000)
        seen["test run"] = page.inner_text("#test-output")
        page.select_option("#provider", "gemini")
        page.fill("#prompt", "")
        page.click("#save-slot")
        page.wait_for_selector("#prompt-error:not(:empty)")
        seen["save error"] = page.inner_text("#prompt-error")
        page.once("dialog", lambda dialog: dialog.accept())  # leave the editor's unsaved change
        page.goto("/ui/#/settings")
        page.wait_for_selector("#alert_webhook_url")
        page.fill("#alert_webhook_url", "ftp://studio.example")
        page.click("#save-settings")
        page.wait_for_selector(".toast.error")
        seen["settings error"] = page.inner_text(".toast")
        page.goto("/ui/#/jobs/" + "0" * 32)
        page.wait_for_selector(".toast.error")
        seen["missing job"] = page.inner_text(".toast")
        english = {where: ENGLISH_MESSAGES.findall(text) for where, text in seen.items()}
        assert not any(english.values()), (english, seen)
    finally:
        context.close()


def test_sharing_again_keeps_the_pin_title_slots_and_photos_since(page, ui_server):
    ui_server.api.put("/api/slots/slot-006", json={"is_active": True, "provider": "local"})
    login(page)
    page.goto("/ui/#/gallery")
    page.fill("#share-title", "Anna & Ivan")
    page.fill("#share-pin", "8642")
    page.check(".share-slot[value=slot-006]")
    page.click("#share")
    page.wait_for_selector("#share-state:has-text('PIN 8642')")
    first = ui_server.api.get("/api/gallery/share").json()
    try:
        assert ui_server.post("slot-006").status == 200  # taken after the share opened: guests see it
        page.reload()  # later that evening, to extend the time: the form shows the open share
        page.wait_for_selector("#share-state:has-text('PIN 8642')")
        assert page.input_value("#share-pin") == "8642" and page.input_value("#share-title") == "Anna & Ivan"
        assert page.is_checked(".share-slot[value=slot-006]") and not page.is_checked("#share-earlier")
        page.fill("#share-minutes", "30")
        page.click("#share")
        again = first
        for _ in range(50):
            again = ui_server.api.get("/api/gallery/share").json()
            if again["shared_until"] != first["shared_until"]:
                break
            page.wait_for_timeout(100)
        assert again["shared_until"] > first["shared_until"]  # extended
        assert (again["pin"], again["title"], again["slots"], again["since"]) == (
            "8642",
            "Anna & Ivan",
            ["slot-006"],
            first["since"],
        )
        public = f"{ui_server.base_url}/api/public/gallery"
        assert httpx.get(public).status_code == 401  # still needs the PIN
        listed = httpx.get(public, headers={"X-Gallery-Pin": "8642"}).json()
        assert listed["title"] == "Anna & Ivan" and listed["items"]  # the photo guests saw is still there
    finally:
        ui_server.api.delete("/api/gallery/share")


def test_a_guest_opens_a_pin_gallery_with_its_pin(browser, ui_server):
    ui_server.api.put("/api/slots/slot-003", json={"is_active": True, "provider": "local"})
    assert ui_server.post("slot-003", PHOTOS / "astronaut.jpg").status == 200
    ui_server.api.post("/api/gallery/share", json={"minutes": 5, "include_earlier": True, "pin": "2468"})
    context = browser.new_context(base_url=ui_server.base_url, locale="en-US", viewport={"width": 390, "height": 844})
    guest = context.new_page()
    try:
        guest.goto("/gallery")
        guest.fill("#gallery-pin", "1111")
        guest.click("button:has-text('Open')")
        guest.wait_for_selector("label:has-text('Wrong PIN')")
        guest.fill("#gallery-pin", "2468")
        guest.click("button:has-text('Open')")
        image_loaded(guest, "#photos img >> nth=0")
        shot(guest, "21-pin-gallery-phone")
    finally:
        context.close()
        ui_server.api.delete("/api/gallery/share")


def test_the_take_home_page_waits_for_a_late_ai_photo_and_shows_it_without_a_reload(browser, ui_server, fake_gemini):
    api = ui_server.api
    assert api.put("/api/settings", json={"sync_response_seconds": 10}).status_code == 200
    change = {"provider": "gemini", "prompt": "A sunny beach", "settings": {}, "is_active": True,
              "on_failure": "original", "late_delivery_minutes": 2}  # fmt: skip
    assert api.put("/api/slots/slot-009", json=change).status_code == 200
    try:
        for locale, waiting in (("en-US", "being made"), ("ru-RU", "ещё создаётся")):
            fake_gemini.reset(latency=14)  # misses the booth's 10 s deadline
            r = ui_server.post("slot-009", PHOTOS / "astronaut.jpg")
            assert r.status == 200 and r.headers["x-photochanger-late"] == "continuing"
            guest = browser.new_context(
                base_url=ui_server.base_url, viewport={"width": 390, "height": 844}, locale=locale
            )
            public = guest.new_page()
            errors: list[str] = []
            public.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            public.goto(r.headers["x-result-url"].removeprefix(ui_server.base_url))  # the link the booth printed
            public.wait_for_selector(f"#making:has-text('{waiting}')")
            assert public.locator("#download").count() == 0
            first = public.locator("#photo").get_attribute("src")  # the booth's answer meanwhile
            image_loaded(public, ".qr")
            shot(public, f"09-late-waiting-{locale}")
            public.wait_for_selector("#download", timeout=30_000)  # no reload: the page asked again
            assert public.locator("#making").count() == 0
            assert public.locator("#photo").get_attribute("src") != first
            image_loaded(public, "#photo")
            shot(public, f"09-late-delivered-{locale}")
            guest.close()
            assert not errors, errors
    finally:
        fake_gemini.reset()
        api.put("/api/settings", json={"sync_response_seconds": 48})
        api.put("/api/slots/slot-009", json={"provider": "local", "is_active": False, "late_delivery_minutes": 0})


def test_an_event_from_creation_to_export_with_its_slideshow_and_its_page_on_a_phone(browser, page, ui_server):
    import zipfile

    login(page)
    page.goto("/ui/#/events")
    page.fill("#event-name", "Свадьба Анны")
    page.fill("#event-title", "Anna & Peter")
    page.locator("#event-colour").evaluate("el => { el.value = '#aa3366'; }")
    page.check("input.event-slot[value=slot-001]")
    page.click("#event-save")
    page.wait_for_url(re.compile(r"#/events/\w+$"))
    event_id = page.url.rsplit("/", 1)[1]
    try:
        assert page.inner_text("#event-state") == "planned"
        page.click("#event-start")
        page.wait_for_selector("#event-state:text('live')")
        jobs = [ui_server.post("slot-001", PHOTOS / "astronaut.jpg").headers["x-job-id"] for _ in range(2)]
        page.reload()
        page.wait_for_selector("#event-photo-count:text('2')")
        shot(page, "30-event")
        page.goto("/ui/#/dashboard")
        page.wait_for_selector(f"#live-events [data-event='{event_id}']")
        page.goto("/ui/#/stats")
        page.wait_for_selector(".totals .card")
        page.select_option("#stats-event", event_id)
        page.wait_for_selector(".totals .card:first-child strong:text-is('2')")
        page.goto(f"/ui/#/events/{event_id}")
        page.set_input_files("#event-logo-file", str(PHOTOS / "camera.png"))
        page.wait_for_selector("#event-logo-preview img")
        page.click("#event-share")
        show_url = page.get_attribute("#event-show-link", "href")
        assert show_url and show_url.endswith("/gallery/show")
        with page.expect_download() as download:
            page.click("#event-export")
        archive = zipfile.ZipFile(download.value.path())
        results = [n for n in archive.namelist() if n.startswith("results/")]
        assert len(results) == 2 and "photos.csv" in archive.namelist()
        assert {row.split(",")[0] for row in archive.read("photos.csv").decode("utf-8-sig").splitlines()[1:]} == set(
            jobs
        )

        tv = browser.new_context(base_url=ui_server.base_url, locale="en-US", viewport={"width": 1920, "height": 1080})
        screen = tv.new_page()
        errors = []
        screen.on("pageerror", lambda exc: errors.append(str(exc)))
        screen.goto("/gallery/show")
        screen.wait_for_selector("#title:text('Anna & Peter')")
        image_loaded(screen, "#slide")
        image_loaded(screen, "#event-logo")
        assert any(job in screen.get_attribute("#slide", "src") for job in jobs)
        assert screen.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent')") == "#aa3366"
        shot(screen, "31-slideshow")
        tv.close()
        assert not errors, errors

        phone = browser.new_context(base_url=ui_server.base_url, locale="ru-RU", viewport={"width": 390, "height": 844})
        small = phone.new_page()
        login(small)
        small.select_option("#lang", "ru")
        small.goto(f"/ui/#/events/{event_id}")
        small.wait_for_selector("#event-state:text('идёт')")
        small.wait_for_selector("#event-photo-count")
        assert small.evaluate("document.documentElement.scrollWidth") <= 391
        shot(small, "32-event-ru-phone")
        phone.close()
    finally:
        ui_server.api.post(f"/api/events/{event_id}/end")
        ui_server.api.delete("/api/gallery/share")
