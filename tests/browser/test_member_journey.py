"""A member, by clicking and typing: adds the Corolla to the garage, finds brake pads that fit
it (garage + the fits filter, suggestions as they type), puts pads from two shops in the
cart, checks out with shipping per shop, pays with the development gateway and sees the
paid order. Bad input on the way gets the API's error next to its field."""
import re

import pytest

from marketplace.plugins.testing import PASSWORD

pytestmark = pytest.mark.browser


def test_member_finds_corolla_pads_buys_from_two_shops_and_pays(site, make_user):
    make_user("corolla.owner@example.com")
    s = site()
    page = s.sign_in("corolla.owner@example.com", PASSWORD)

    # The garage: make, model, engine, year. A year outside the car's range is the API's error.
    page.get_by_role("link", name="我的车库").click()
    s.settled()
    page.get_by_label("品牌").select_option(label="丰田")
    page.wait_for_function("() => document.querySelector('select[name=model]').options.length > 1")
    page.get_by_label("车型").select_option(label="卡罗拉")
    page.wait_for_function("() => document.querySelector('select[name=vehicleId]').options.length > 1")
    engines = page.get_by_label("发动机 / 年款")
    fits_2021 = next(text for text in engines.locator("option").all_inner_texts()
                     if (m := re.search(r"(\d{4})–(\d{4})", text)) and int(m[1]) <= 2021 <= int(m[2]))
    engines.select_option(label=fits_2021)
    page.get_by_label("年款", exact=True).fill("1975")
    page.get_by_label("昵称（可选）").fill("我的卡罗拉")
    page.get_by_role("button", name="添加", exact=True).click()
    year_error = page.locator("[data-error-for=year]")
    year_error.wait_for()
    assert year_error.inner_text().strip()
    assert page.get_by_label("年款", exact=True).get_attribute("aria-invalid") == "true"
    page.get_by_label("年款", exact=True).fill("2021")
    page.get_by_role("button", name="添加", exact=True).click()
    page.locator(".list .card", has_text="我的卡罗拉").wait_for()
    s.screenshot("garage")

    # Search as they type: suggestions come, then the search runs with the car as a filter.
    page.get_by_role("link", name="首页").click()
    s.settled()
    page.get_by_label("适配我的车").select_option(index=1)
    s.settled()
    assert "fits=" in page.url and "year=2021" in page.url
    box = page.get_by_role("combobox", name="搜索商品")
    box.type("刹车", delay=40)
    page.get_by_role("listbox").locator("[role=option]").first.wait_for()
    box.fill("刹车片")
    box.press("Escape")
    page.get_by_role("button", name="搜索", exact=True).click()
    s.wait_url(r"q=刹车片")
    heading = page.locator("#results-heading").inner_text()
    assert "适配" in heading and "卡罗拉" in heading, heading
    assert int(re.search(r"共 (\d+) 件", heading).group(1)) >= 2
    s.screenshot("search-fits-my-car")

    # Pads from two different shops (only cards in stock).
    cards = page.locator(".product-card:not(:has(.badge-out))")
    shops = {}
    for i in range(cards.count()):
        meta = cards.nth(i).locator(".card-meta").inner_text()
        shop = meta.split(" · ")[-1]
        if shop not in shops:
            shops[shop] = i
        if len(shops) == 2:
            break
    assert len(shops) == 2, shops
    results_url = page.url
    for n, (shop, index) in enumerate(shops.items()):
        page.goto(results_url)
        s.settled()
        page.locator(".product-card:not(:has(.badge-out))").nth(index).locator("a.card-link").click()
        s.settled()
        assert shop in page.locator(".summary .meta").inner_text()
        assert page.locator(".fitment").inner_text().count("卡罗拉") >= 1  # the fitment table names the car
        if n == 0:
            s.screenshot("product")
        page.get_by_role("button", name="加入购物车").click()
        page.get_by_role("status").filter(has_text="已加入购物车").wait_for()
        assert page.locator(".cart-count").inner_text() == str(n + 1)

    # The cart, split by shop: too many units is the API's error next to that quantity.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("购物车")).click()
    s.settled()
    assert page.locator(".vendor-part").count() == 2
    first_qty = page.locator(".cart-line input[type=number]").first
    first_qty.fill("9999")
    first_qty.press("Tab")
    error = page.locator(".cart-line .field-error").first
    error.wait_for()
    assert error.inner_text().strip() and first_qty.get_attribute("aria-invalid") == "true"
    first_qty.fill("2")
    first_qty.press("Tab")
    page.wait_for_function("() => document.querySelector('.cart-count').textContent === '3'")
    s.screenshot("cart")

    # Checkout: an empty phone is the API's error next to it; then shipping per shop; pay.
    page.get_by_role("link", name="去结算").click()
    s.settled()
    page.get_by_label("收货人").fill("王小明")
    page.get_by_label("省份").fill("北京市")
    page.get_by_label("城市").fill("北京市")
    page.get_by_label("详细地址").fill("朝阳区建国路88号")
    parts = page.locator(".ship-part")
    assert parts.count() == 2
    for i in range(2):
        page.locator(".ship-part").nth(i).locator("input[type=radio]").first.check()
        s.settled()
        page.wait_for_function(f"() => document.querySelectorAll('.ship-part')[{i}].querySelector('input:checked')")
    assert page.get_by_label("收货人").input_value() == "王小明"  # the unsaved address survived the re-render
    page.get_by_role("button", name="提交订单并支付").click()
    phone_error = page.locator("[data-error-for=phone]")
    phone_error.wait_for()
    assert page.get_by_label("手机号").get_attribute("aria-invalid") == "true"
    page.get_by_label("手机号").fill("13800138000")
    s.screenshot("checkout")
    page.get_by_role("button", name="提交订单并支付").click()
    s.wait_url(r"/shop/pay/")
    s.screenshot("pay-dev-gateway")
    page.get_by_role("button", name=re.compile("确认支付")).click()
    s.wait_url(r"/shop/orders/")
    assert page.locator(".page-head .badge").inner_text() == "已付款"
    assert page.locator(".vendor-part").count() == 2
    s.screenshot("order")

    # And in my orders.
    page.get_by_role("link", name="我的订单").click()
    s.settled()
    assert page.locator(".list .card").count() == 1 and "已付款" in page.locator(".list .card").inner_text()
    s.assert_clean()
