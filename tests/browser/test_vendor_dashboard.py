"""A vendor owner, by clicking and typing: imports products from CSV (a bad row's error shows
on that row, the good product is imported), fulfils a paid sub-order (without a tracking
number first: the API's error next to the field), refunds part of it, and checks the
ledger's balance. A shop's plain staff member does not get the ledger."""
import re

import pytest

from marketplace.plugins.testing import gid

pytestmark = pytest.mark.browser

VENDOR = "zhongguancun-car-parts"
OWNER = f"owner.{VENDOR}@demo.marketplace"
DEMO_PASSWORD = "demo-pass-2026"
CSV = """product_slug,name_zh,name_en,category,brand,product_type,status,sku,variant_name,list_price,sale_price,weight_grams,warehouse,quantity
yaris-pads,威驰刹车片,Yaris pads,brake-pads,bosch,brake-pads,published,YP-1,前,188.00,,700,,8
yaris-pads,威驰刹车片,Yaris pads,brake-pads,bosch,brake-pads,published,YP-2,后,168.00,,650,,6
vios-discs,威驰刹车盘,Vios discs,brake-discs,bosch,brake-discs,published,VD-1,前,abc,,3000,,4
"""


def paid_order(api):
    """member.en buys one unit from the vendor through the API, paying with the dev gateway."""
    from marketplace.vendors.models import Vendor

    vendor = Vendor.objects.get(slug=VENDOR)
    buyer = api()
    buyer.login("member.en@demo.marketplace", DEMO_PASSWORD)
    products = buyer.data('query($v: ID!) { products(filter: {vendors: [$v], inStock: true}, first: 5) { edges { node { '
                          'variants { id available } } } } }', {"v": gid("Vendor", vendor.pk)})["products"]["edges"]
    variant = next(v["id"] for e in products for v in e["node"]["variants"] if v["available"] > 0)
    cart = buyer.mutate('mutation($l: [CheckoutLineInput!]) { checkoutCreate(lines: $l) { checkout { token '
                        'vendors { vendor { id } shippingOptions { method { id } } } } errors { code } } }',
                        {"l": [{"variantId": variant, "quantity": 1}]})["checkout"]
    token = cart["token"]
    buyer.mutate('mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "Li Lei", '
                 'phone: "13900139000", province: "北京市", city: "北京市", street: "中关村大街1号"}) { errors { code } } }', {"t": token})
    part = cart["vendors"][0]
    buyer.mutate('mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v, '
                 'shippingMethodId: $m) { errors { code } } }',
                 {"t": token, "v": part["vendor"]["id"], "m": part["shippingOptions"][0]["method"]["id"]})
    placed = buyer.mutate('mutation($t: UUID!) { checkoutComplete(token: $t, gateway: "dev") { order { number } '
                          'payment { clientSecret } errors { code message } } }', {"t": token})
    assert placed["errors"] == [], placed["errors"]
    paid = buyer.mutate('mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status errors { code } } }',
                        {"s": placed["payment"]["clientSecret"]})
    assert paid["errors"] == []
    return placed["order"]["number"]


def test_owner_imports_csv_fulfils_refunds_and_checks_the_ledger(site, api):
    number = paid_order(api)
    s = site()
    page = s.sign_in(OWNER, DEMO_PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="店铺后台").click()
    s.settled()
    page.locator(".card", has_text="中关村车配").get_by_role("link", name="商品").click()
    s.settled()
    s.screenshot("vendor-products")

    # CSV import: row 4's price is not a number; its product is refused, the other imported.
    page.get_by_role("link", name="CSV 导入").first.click()
    s.settled()
    page.get_by_label("CSV 内容").fill(CSV)
    page.get_by_role("button", name="导入", exact=True).click()
    result = page.get_by_role("status").filter(has_text="新建")
    result.wait_for()
    assert "新建 1 个" in result.inner_text()
    bad = page.locator("tr.row-error")
    assert bad.count() == 1 and bad.get_attribute("data-row") == "4"
    assert "list_price" in bad.locator(".row-problems").inner_text()
    assert bad.locator("td.cell-error").inner_text() == "abc"
    assert page.locator("tr[data-row='2'] .row-problems").inner_text() == "✓"
    s.screenshot("vendor-csv-import")
    page.get_by_role("link", name="查看商品").click()
    s.settled()
    page.get_by_label("按名称查找商品").fill("威驰")
    page.get_by_role("button", name="查找").click()
    s.wait_url(r"search=威驰")
    assert page.get_by_role("link", name="威驰刹车片").count() == 1
    assert page.get_by_role("link", name="威驰刹车盘").count() == 0

    # Orders to fulfil: the paid sub-order; without a tracking number the API refuses.
    page.get_by_role("link", name="订单", exact=True).click()
    s.settled()
    card = page.locator(f".sub-order[data-order='{number}']")
    card.wait_for()
    s.screenshot("vendor-orders")
    card.get_by_label("快递公司").fill("顺丰")
    card.get_by_role("button", name="确认发货").click()
    error = card.locator("[data-error-for=trackingNumber]")
    error.wait_for()
    assert card.get_by_label("运单号").get_attribute("aria-invalid") == "true"
    card.get_by_label("运单号").fill("SF1234567890")
    card.get_by_role("button", name="确认发货").click()
    card.wait_for(state="detached")  # it left the "to fulfil" list
    page.get_by_role("link", name="已发货").click()
    s.settled()
    card = page.locator(f".sub-order[data-order='{number}']")
    assert "SF1234567890" in card.inner_text() and "已发货" in card.inner_text()

    # A partial refund of its own sub-order; a too-large amount is the API's error first.
    card.locator("summary", has_text="退款").click()
    card.get_by_label(re.compile("退款金额")).fill("99999.00")
    card.get_by_role("button", name="退款", exact=True).click()
    card.locator("[data-error-for=amount]").wait_for()
    card.get_by_label(re.compile("退款金额")).fill("10.00")
    card.get_by_label("原因").fill("包装破损")
    card.get_by_role("button", name="退款", exact=True).click()
    page.locator(f".sub-order[data-order='{number}'] .refunds", has_text="包装破损").wait_for()

    # The ledger: the balance owed, the entries of this order.
    page.get_by_role("link", name="账本").click()
    s.settled()
    balance = page.locator("#ledger-balance").inner_text()
    assert re.fullmatch(r"¥\d+\.\d{2}", balance) and balance != "¥0.00", balance
    assert number in page.locator("table.ledger").inner_text()
    s.screenshot("vendor-ledger")
    s.assert_clean()


def test_vendor_staff_do_not_get_the_ledger_and_strangers_no_dashboard(site, make_user):
    from marketplace.vendors.models import Vendor, VendorStaff

    clerk = make_user("clerk@example.com")
    stranger = make_user("stranger@example.com")
    vendor = Vendor.objects.get(slug=VENDOR)
    VendorStaff.objects.create(vendor=vendor, user=clerk, role="staff")
    s = site(phone=True)
    page = s.sign_in(clerk.email, "Corolla-2026-brakes")
    page.goto(f"{s.origin}/shop/vendor/{gid('Vendor', vendor.pk)}/orders")
    s.settled()
    tabs = page.get_by_role("navigation", name="店铺后台菜单")
    assert tabs.get_by_role("link", name="订单").count() == 1
    assert tabs.get_by_role("link", name="账本").count() == 0  # owners and managers only
    page.goto(f"{s.origin}/shop/vendor/{gid('Vendor', vendor.pk)}/ledger")
    s.settled()
    assert "只有店主或经理可以操作" in page.locator("main").inner_text()

    other = site(phone=True)
    page = other.sign_in(stranger.email, "Corolla-2026-brakes")
    page.goto(f"{other.origin}/shop/vendor/{gid('Vendor', vendor.pk)}/products")
    other.settled()
    assert "您不是该店铺的员工" in page.locator("main").inner_text()
