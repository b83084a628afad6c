"""The vendor plans page (plugins/vendor_plans' dashboard page), by clicking: the owner of a
demo parts shop sees its plan, access, billing state and invoices; choosing the plan it
already has is the API's error next to the plan field. A manager sees the page without the
owner's controls; plain staff do not get it."""
import pytest

pytestmark = pytest.mark.browser

OWNER = "owner.zhongguancun-car-parts@demo.marketplace"


def test_owner_sees_plan_invoices_and_billing_state(site):
    s = site()
    page = s.sign_in(OWNER)
    page.get_by_role("link", name="店铺后台").click()
    s.settled()
    page.get_by_role("main").get_by_role("link", name="订单", exact=True).first.click()
    s.settled()
    page.get_by_role("link", name="套餐与账单").click()
    s.settled()
    assert page.locator("#plan-access").inner_text().strip()
    assert page.locator(".billing-state").is_visible()
    assert page.locator(".invoices tbody tr").count() >= 1
    current = page.get_by_label("套餐").input_value()
    assert current
    page.get_by_role("button", name="更换", exact=True).click()
    error = page.locator(".plan-change [data-error-for=plan]")
    error.wait_for()
    assert error.inner_text().strip()
    assert page.get_by_label("套餐").get_attribute("aria-invalid") == "true"
    s.screenshot("vendor-plan")
    s.assert_clean()
