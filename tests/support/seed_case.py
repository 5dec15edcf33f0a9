"""What the browser tests of the seed cases (tests/test_browser_seed_*.py) share: each actor signed
in as themselves on their own page, the residents on the portal, the forms of a topic's page."""
from __future__ import annotations

from urllib.parse import quote

from conftest import PASSWORD
from support.browser import SHOTS, choose_files
from test_browser import do

PHONE = {"viewport": {"width": 390, "height": 844}}


def arrive(browser, base: str, username: str, path: str):
    """Signed in as `username` on a page of their own, straight onto `path` (the login's `next`),
    not through the home page first."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login?next={quote(path)}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    submit(page, "button[type=submit]")
    return page


def resident(browser, base: str, path: str):
    """A resident on the public portal, on a phone, not signed in."""
    page = browser.new_page(**PHONE)
    page.set_default_timeout(15_000)
    page.goto(f"{base}{path}")
    return page


def submit(page, selector: str):
    """Click what sends a form or follows a link, and wait for the page that answers (a check that
    follows reads the new page, not the one clicked on)."""
    with page.expect_navigation():
        page.click(selector)


def shooter(case: str):
    """shot(page, n, what) → test-output/browser/seed-<case>-NN-<what>.png, the whole page."""
    def shot(page, n: int, what: str):
        page.screenshot(path=str(SHOTS / f"seed-{case}-{n:02d}-{what}.png"), full_page=True)
    return shot


def action_form(page, action: str):
    return page.locator(f"form.action-form:has(input[name=action][value={action}])").first


def pick(page, action: str, **options):
    """Choose from an action form's lists (a category from the street's list, a rating's party)."""
    for name, value in options.items():
        action_form(page, action).locator(f"select[name={name}]").select_option(value)


def upload(page, path: str, kind: str = "attachment"):
    """Upload a file with the gallery's widget (straight to storage, checked in the background) and
    record it as the step's evidence, as a photo or an attachment: by hand (the box that records
    it by itself unticked, to say which kind it is)."""
    box = page.locator("#files [data-as-evidence]")
    if box.count():
        box.uncheck()
    choose_files(page, "#files", path)
    form = action_form(page, "attach")
    form.locator("select[name=attachment_id]").wait_for(timeout=30_000)  # files.js reloads once it passed
    form.locator("select[name=kind]").select_option(kind)
    do(page, "attach")


def timeline(page) -> str:
    return page.locator(".timeline").inner_text()


def move(page, to: str, comment: str = ""):
    """A step's way to `to` where it has more than one (4+X's 当场答复 beside the main way on)."""
    form = page.locator(f"form.action-form:has(input[name=action][value=advance]):has(input[name=to][value={to}])")
    form.locator("[name=comment]").fill(comment)
    with page.expect_navigation():
        form.locator("button").click()
    assert page.locator(".flash-success", has_text="已推进到「").count() == 1, page.locator(".flash-error").all_inner_texts()


def notice_support(page, phone: str, comment: str | None = None):
    """On the portal's 议题公示 page of one topic: support it, and leave a comment if given."""
    page.fill("#support-phone", phone)
    submit(page, "text=支持这个议题")
    page.locator(".flash", has_text="感谢您的支持！").wait_for()
    if comment is None:
        return
    page.fill("#comment-text", comment)
    page.fill("#comment-phone", phone)
    submit(page, "text=提交留言")
    page.locator(".flash", has_text="留言已收到，工作人员审核后公开").wait_for()


def follow(page, base: str, slug: str, code: str, phone: str):
    """查询进度 with the receipt code and the phone's last four digits."""
    page.goto(f"{base}/t/{slug}/follow")
    page.fill("#code", code)
    page.fill("#last4", phone[-4:])
    submit(page, "form.form button.primary")
