"""What a storefront, a vendor and platform staff send, as GraphQL documents, and the
flows the tests repeat (open or join a group, pay, settle)."""
from datetime import timedelta

from marketplace.plugins import clock
from marketplace.plugins.testing import GraphQLClient, gid

DEAL_FIELDS = "id status kind dealPrice { amount } listPrice { amount } groupSize unitsLeft reviewNote"
CREATE_DEAL = f"""mutation($v: ID!, $var: ID!, $input: GroupDealInput!) {{
  groupDealCreate(vendorId: $v, variantId: $var, input: $input) {{ deal {{ {DEAL_FIELDS} }} errors {{ field code message }} }} }}"""
SUBMIT = f"""mutation($id: ID!) {{ groupDealSubmit(id: $id) {{ deal {{ {DEAL_FIELDS} }} errors {{ field code message }} }} }}"""
APPROVE = f"""mutation($id: ID!) {{ groupDealApprove(id: $id) {{ deal {{ {DEAL_FIELDS} }} errors {{ field code message }} }} }}"""
CANCEL = f"""mutation($id: ID!, $r: String!) {{ groupDealCancel(id: $id, cancelReason: $r) {{ deal {{ {DEAL_FIELDS} }}
  errors {{ field code message }} }} }}"""
CHECKOUT = """mutation($deal: ID, $code: String, $group: ID, $q: Int) {
  groupBuyCheckout(dealId: $deal, shareCode: $code, groupId: $group, quantity: $q) {
    checkout { token total { amount } lines { id quantity unitPrice { final { amount } adjustments { source label } } metadata } }
    errors { field code message } } }"""
ADDRESS = """mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "王小明",
  phone: "13800138000", province: "北京市", city: "北京市", district: "朝阳区", street: "建国路88号"}) { errors { field code } } }"""
SHIP = """mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v, shippingMethodId: $m) {
  errors { field code } } }"""
COMPLETE = """mutation($t: UUID!, $g: String) { checkoutComplete(token: $t, gateway: $g) {
  order { id number status total { amount } vendorOrders { id status onHold } }
  payment { reference status clientSecret }
  errors { field code message } } }"""
PAY = """mutation($o: ID!, $g: String!, $m: GroupBuyPaymentMethod) { groupBuyPay(orderId: $o, gateway: $g, method: $m) {
  payment { reference status captureMethod clientSecret amount { amount } } errors { field code message } } }"""
CONFIRM = """mutation($s: String!, $o: DevPaymentOutcome) { devPaymentConfirm(clientSecret: $s, outcome: $o) {
  status errors { field code message } } }"""
MY_GROUPS = """{ myGroupBuys(first: 20) { edges { node { id status isLeader paidBy amount { amount }
  group { id status shareCode paidCount seatsLeft size expiresAt }
  order { number status vendorOrders { status onHold } }
  refund { status amount { amount } attempt failureReason } vouchers { id code status validUntil } } } } }"""
GROUP = """query($code: String, $id: ID) { groupBuyGroup(shareCode: $code, id: $id) {
  id status size paidCount seatsLeft shareCode isMine leaderName expiresAt
  members { status isLeader paidBy } } }"""
ORDER = """query($n: String!) { order(number: $n) { status refundedTotal { amount }
  vendorOrders { status onHold refunded { amount } } } }"""


def deal_input(**overrides):
    now = clock.now()
    values = {"dealPrice": "150.00", "groupSize": 3, "startsAt": (now - timedelta(minutes=5)).isoformat(),
              "endsAt": (now + timedelta(days=7)).isoformat(), "maxUnits": 30}
    values.update(overrides)
    return values


def live_deal(owner, staff, vendor, variant, **overrides):
    """Create, submit and approve a deal through the API; returns the deal's payload."""
    created = owner.mutate(CREATE_DEAL, {"v": gid("Vendor", vendor.pk), "var": gid("ProductVariant", variant.pk),
                                         "input": deal_input(**overrides)})
    assert created["errors"] == [], created["errors"]
    deal_id = created["deal"]["id"]
    submitted = owner.mutate(SUBMIT, {"id": deal_id})
    assert submitted["errors"] == [], submitted["errors"]
    approved = staff.mutate(APPROVE, {"id": deal_id})
    assert approved["errors"] == [], approved["errors"]
    assert approved["deal"]["status"] == "LIVE"
    return approved["deal"]


def signed_in(client, user):
    api = GraphQLClient(client)
    api.login(user.email)
    return api


def place(api, shop, deal_id=None, code=None, group_id=None, quantity=1, gateway=None):
    """groupBuyCheckout -> address -> shipping -> checkoutComplete; returns the payload of
    checkoutComplete (asserting each step worked)."""
    prepared = api.mutate(CHECKOUT, {"deal": deal_id, "code": code, "group": group_id, "q": quantity})
    assert prepared["errors"] == [], prepared["errors"]
    token = prepared["checkout"]["token"]
    if shop.get("method") is not None:
        assert api.mutate(ADDRESS, {"t": token})["errors"] == []
        assert api.mutate(SHIP, {"t": token, "v": gid("Vendor", shop["vendor"].pk),
                                 "m": gid("ShippingMethod", shop["method"].pk)})["errors"] == []
    placed = api.mutate(COMPLETE, {"t": token, "g": gateway})
    assert placed["errors"] == [], placed["errors"]
    return placed


def pay_dev(api, order_id, method="CARD", outcome="SUCCEED"):
    """groupBuyPay on the development gateway, then the buyer confirms (as the card form
    would). Returns the payment payload."""
    paid = api.mutate(PAY, {"o": order_id, "g": "dev", "m": method})
    assert paid["errors"] == [], paid["errors"]
    confirmed = api.mutate(CONFIRM, {"s": paid["payment"]["clientSecret"], "o": outcome})
    assert confirmed["errors"] == [], confirmed["errors"]
    return paid["payment"]


def my_groups(api):
    return [edge["node"] for edge in api.data(MY_GROUPS)["myGroupBuys"]["edges"]]
