"""Issue 17 in the system Chromium: the log's entry page installable and working with the network off.

Log 5 encounters offline (and one the server will refuse), reload offline and see them queued, go online and see
them synced exactly once with the server's credit; the refused one stays with its reason; a second user on the same
browser never sees or sends the first user's queue. Screenshots (390 px phone) in docs/screenshots/."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot, sign_up, wait_until

pytestmark = pytest.mark.browser

ENTRIES = ["99213", "99214 20610-RT", "27447-RT", "11042 11045x2", "99215"]
REFUSED = "01402-AA"  # in the table (status J, anaesthesia): only the server can price it, and it refuses it


def _ready_for_offline(page) -> None:
    """The worker controls the page and holds the entry page and the code table."""
    wait_until(page, "navigator.serviceWorker.controller !== null")
    for _ in range(100):
        if page.evaluate("""async () => !!(await caches.match('/log/')) &&
                                         !!(await caches.match('/log/offline/table.json'))"""):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the worker did not keep the entry page and the code table")


def _server_items(page, live_url: str) -> list[dict]:
    r = page.request.get(live_url + "/api/log/encounters?limit=100")
    assert r.status == 200
    data = r.json()
    assert data["count"] == len(data["items"])
    return data["items"]


def _idb_items(page) -> list[dict]:
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open('rvuedge-offline', 1);
        req.onsuccess = () => { const all = req.result.transaction('queue').objectStore('queue').getAll();
                                all.onsuccess = () => resolve(all.result); all.onerror = () => reject(all.error); };
        req.onerror = () => reject(req.error); })""")


def _queue(page, entry: str) -> None:
    page.fill("#id_entry", entry)
    page.wait_for_selector(".offline-total")  # the offline check answered (no server)
    page.keyboard.press("Enter")
    try:
        page.wait_for_selector(f".offline-queued >> text={entry.upper()}")
    except Exception:
        print("queue check:", page.inner_html("#check"), page.input_value("#id_entry"))
        raise


def test_offline_log_reload_sync_once_refused_stays_second_user_never_sees_it(live_url, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        sign_up(page, live_url)
        _ready_for_offline(page)
        # Every render of the page carries a fresh form key: the one in the worker's copy identifies that copy.
        cached_idem = page.evaluate("""caches.match('/log/').then(r => r.text())
            .then(t => /name="idem" value="([^"]+)"/.exec(t)[1])""")

        context.set_offline(True)
        page.reload()
        page.wait_for_selector("#offline-queue:not([hidden]) >> text=You are offline")
        assert page.get_attribute("input[name=idem]", "value") == cached_idem  # the worker's copy, no network

        # The offline check: table answers, PHI guard refuses before anything is stored.
        page.fill("#id_entry", "27447-RT 99999")
        page.wait_for_selector(".check-list li.bad >> text=unknown code 99999")
        page.wait_for_selector(".check-list li.ok >> text=19.60 wRVU")
        page.fill("#id_entry", "99213")
        page.click("details.more summary")
        page.fill("#id_notes", "MRN 00123456")
        page.click(".log-btn")
        page.wait_for_selector(".check-error >> text=patient identifier")
        assert _idb_items(page) == []
        page.fill("#id_notes", "")

        for entry in ENTRIES:
            _queue(page, entry)
        _queue(page, REFUSED)
        page.wait_for_selector(".queue-count >> text=6 waiting")
        page.wait_for_selector(".queue-item >> text=provisional")

        page.reload()  # offline still: the queue is on the device
        page.wait_for_selector(".queue-count >> text=6 waiting")
        items = _idb_items(page)
        assert len(items) == 6 and len({i["key"] for i in items}) == 6
        assert all(i["key"].startswith("offline:") and i["state"] == "waiting" for i in items)
        assert [i["body"]["entry"] for i in sorted(items, key=lambda i: i["seq"])] == ENTRIES + [REFUSED]
        screenshot(page, "offline-phone-queued")

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")  # as the browser does when the radio returns
        page.wait_for_selector(".queue-count >> text=1 waiting")
        wait_until(page, "document.querySelectorAll('.queue-item.synced').length === 5")
        page.wait_for_selector(".queue-item.failed")  # the last one, refused by the server
        failed = page.locator(".queue-item.failed")
        assert failed.count() == 1 and page.locator(".queue-item.waiting").count() == 0
        text = failed.inner_text()
        assert REFUSED in text and "Refused by the server: 01402-AA: 01402: anaesthesia" in text, text
        assert "priced on sync" in text  # no provisional figure was made up for it
        page.wait_for_selector("section.today .enc-list")  # the page's Recent list, as the server now has it
        page.wait_for_selector(".queue-status >> text=5 sent")
        screenshot(page, "offline-phone-synced")

        server = _server_items(page, live_url)
        assert len(server) == 5  # exactly once each
        assert sorted(e["entry"] for e in server) == sorted(ENTRIES)
        assert all(e["idempotency_key"].startswith("offline:") for e in server)
        shown = page.locator(".queue-item.synced .server-credit").all_inner_texts()
        assert sorted(shown) == sorted(f"{e['total_wrvu']} wRVU" for e in server)

        # Online again after a reload: nothing is sent twice, the refused one stays until fixed or discarded.
        page.reload()
        page.wait_for_selector(".queue-count >> text=1 waiting")
        assert len(_server_items(page, live_url)) == 5
        # Still signed in after the reconnect (the session outlived the offline spell).
        assert page.url == live_url + "/log/" and page.locator(".user-nav button:has-text('Log out')").count() == 1
        page.click(".queue-item.failed [data-fix]")
        wait_until(page, f"document.getElementById('id_entry').value.trim() === '{REFUSED}'")
        page.wait_for_selector(".queue-count >> text=0 waiting", state="attached")
        page.fill("#id_entry", "99211")  # fixed: online, the form logs it as always
        page.wait_for_selector(".check-total")
        page.keyboard.press("Enter")
        page.wait_for_selector(".logged >> text=99211")
        assert len(_server_items(page, live_url)) == 6

        # A queued item survives a sign-out; the next user on this browser neither sees nor sends it.
        context.set_offline(True)
        page.goto(live_url + "/log/")
        _queue(page, "99212")
        first_user = page.get_attribute("#offline-queue", "data-user")
        # Leave the log page while still offline (the home page is not kept: the browser's error page), so that
        # nothing syncs before the sign-out.
        with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
            page.goto(live_url + "/")
        context.set_offline(False)
        page.goto(live_url + "/")
        page.click(".user-nav button:has-text('Log out')")
        sign_up(page, live_url)
        page.wait_for_selector("#offline-queue", state="attached")
        page.wait_for_timeout(1500)  # any sync would have run by now
        assert page.get_attribute("#offline-queue", "data-user") != first_user
        assert page.locator(".queue-item").count() == 0
        assert _server_items(page, live_url) == []
        mine = [i for i in _idb_items(page) if i["user"] == first_user]
        assert [i["body"]["entry"] for i in mine] == ["99212"]
    finally:
        context.close()


def test_installable_manifest_and_worker_control_the_page_and_cold_start_offline(live_url, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        sign_up(page, live_url)
        _ready_for_offline(page)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"].endswith("/manifest.webmanifest") and not manifest.get("errors")
        parsed = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
        assert parsed["start_url"] == "/log/" and parsed["display"] == "standalone"
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        # Playwright's contexts are incognito profiles, where Chromium never installs anything: that is the one
        # error allowed (the manifest, icons, service worker and start URL are all judged).
        assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == [], errors
        scope = page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)")
        assert scope == live_url + "/"
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == live_url + "/sw.js"

        # "Airplane mode" cold start: a new window on the start URL with no network.
        context.set_offline(True)
        page.close()
        cold = context.new_page()
        cold.goto(live_url + "/log/")
        cold.wait_for_selector("#offline-queue >> text=You are offline")
        cold.fill("#id_entry", "99214")
        cold.wait_for_selector(".offline-total >> text=1.92 wRVU")
        cold.keyboard.press("Enter")
        cold.wait_for_selector(".queue-count >> text=1 waiting")
        assert cold.evaluate("navigator.onLine") is False

        # The session expires while offline: back online, nothing is sent and the entry waits, saying why.
        context.clear_cookies()
        context.set_offline(False)
        cold.evaluate("window.dispatchEvent(new Event('online'))")
        cold.wait_for_selector(".queue-item >> text=session expired")
        assert cold.locator(".queue-item").count() == 1 and cold.locator(".queue-item.failed").count() == 0
    finally:
        context.close()
