"""Store loyalty by clicking and typing (plugins/vip_tiers' pages): the demo member sees their
tier and points at 京城汽配, puts one of its parts in the cart and pays part of it with
points at checkout (more points than they hold is the API's error next to the field); the
store's owner sees the programme, its tiers and segments, and a tier without a threshold is
the API's error next to that field."""
import pytest

pytestmark = pytest.mark.browser

MEMBER = "member@demo.marketplace"
OWNER = "owner.jingcheng-auto-parts@demo.marketplace"


def test_member_points_at_checkout_and_owner_programme(site):
    s = site()
    page = s.sign_in(MEMBER)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="积分", exact=True).click()
    s.settled()
    account = page.locator(".vip-account", has_text="京城汽配")
    points = int(account.locator(".points").inner_text())
    assert points > 0
    s.screenshot("points")

    # A part from that store, then the checkout's points form.
    page = s.open("/shop/?q=刹车片")
    page.locator(".product-card:not(:has(.badge-out))", has_text="京城汽配").first.locator("a.card-link").click()
    s.settled()
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_role("status").filter(has_text="已加入购物车").wait_for()
    page = s.open("/shop/checkout")
    form = page.locator(".vip-redeem", has_text="京城汽配")
    form.get_by_label("使用积分").fill(str(points + 100000))
    form.get_by_role("button", name="抵扣").click()
    error = page.locator(".vip-redeem [data-error-for=points]")
    error.filter(has_text=__import__("re").compile(".+")).wait_for()
    page.locator(".vip-redeem").get_by_label("使用积分").fill("1000")
    page.locator(".vip-redeem").get_by_role("button", name="抵扣").click()
    page.wait_for_function("() => { const f = document.querySelector('.vip-redeem'); return f && !f.querySelector('button:disabled')"
                           " && !f.querySelector('[data-error-for=points]').textContent; }")
    s.settled()
    totals = page.locator(".totals").inner_text()
    assert "-¥10.00" in totals or "¥10.00" in totals, totals  # 1000 points at 100 a yuan
    s.screenshot("checkout-points")
    s.assert_clean()

    owner = site()
    opage = owner.sign_in(OWNER)
    opage.get_by_role("link", name="店铺后台").click()
    owner.settled()
    opage.get_by_role("main").get_by_role("link", name="订单", exact=True).first.click()
    owner.settled()
    opage.get_by_role("link", name="会员等级").click()
    owner.settled()
    assert opage.locator(".tiers-table tbody tr").count() >= 2
    opage.locator(".new-tier summary").click()
    opage.get_by_label("级别（数字越大越高）").fill("9")
    opage.get_by_label("名称", exact=True).first.fill("黑卡")
    opage.get_by_role("button", name="添加等级").click()
    opage.locator(".new-tier [data-error-for=threshold]").filter(has_text=__import__("re").compile(".+")).wait_for()
    owner.screenshot("vendor-vip")
    owner.assert_clean()
