"""Fire's wire shapes: camelCase requests in, snake_case orders out (marshmallow).

Requests ignore unknown fields (Fire documents none as forbidden). Money arrives as decimal
strings with up to 4 decimals inside Fire's price objects (a line's unitPrice and totalPrice
are price objects too; the stored line keeps their `total`) and is stored as integers scaled
by 10**4; `present_order` renders it back as 4-decimal strings, Fire's "external, unscaled" amounts.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from sandbox.core import money
from sandbox.core.fields import DecimalString, JsonInt, Text
from sandbox.core.schemas import In, Open
from sandbox.providers.fire.rules import SCALE

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Must be a three-letter ISO 4217 code.")


class Headers(In):
    x_client_channel = Text(required=True, data_key="x-client-channel",
                            validate=validate.OneOf(["integration"]))
    account = Text(required=True, data_key="account", max_length=128)


class RefundPath(In):
    order_uid = Text(required=True, max_length=128)


class LoginIn(In):
    client_id = Text(required=True)
    client_secret = Text(required=True)
    grant_type = Text(required=True, validate=validate.OneOf(["client_credentials"]))


class RefIn(In):
    uid = fields.String()
    code = fields.String()
    metadata = fields.Dict()


class StoreIn(In):
    id = Text(required=True)
    name = fields.String()
    code = fields.String()
    vendor_id = Text(required=True, data_key="vendorId")


ZERO = "0"


class PriceIn(In):
    currency_code = fields.String(required=True, data_key="currencyCode", validate=CURRENCY)
    subtotal_without_taxes = DecimalString(data_key="subtotalWithoutTaxes", load_default=money.parse(ZERO))
    discount_percentage = DecimalString(data_key="discountPercentage", load_default=money.parse(ZERO))
    discounts_value = DecimalString(data_key="discountsValue", load_default=money.parse(ZERO))
    subtotal_include_discounts = DecimalString(data_key="subtotalIncludeDiscounts", load_default=money.parse(ZERO))
    taxes_percentage = DecimalString(data_key="taxesPercentage", load_default=money.parse(ZERO))
    tax_value = DecimalString(data_key="taxValue", load_default=money.parse(ZERO))
    total = DecimalString(required=True)


class LinePriceIn(In):
    unit_price = fields.Nested(PriceIn, required=True, data_key="unitPrice")
    total_price = fields.Nested(PriceIn, required=True, data_key="totalPrice")


class ProductIn(In):
    product_id = Text(required=True, data_key="productId")
    product = Text(required=True)
    type = fields.String(load_default="PRODUCT")
    quantity = JsonInt(required=True, minimum=1, maximum=10000)
    price = fields.Nested(LinePriceIn, required=True)


class OrderBodyIn(In):
    products = fields.List(fields.Nested(ProductIn), required=True, validate=validate.Length(min=1))


class ClientIn(Open):
    name = fields.String()
    last_name = fields.String(data_key="lastName")
    phone = fields.String()
    email = fields.String()


class PaymentMethodIn(In):
    processor = Text(required=True)
    currency_code = fields.String(required=True, data_key="currencyCode", validate=CURRENCY)
    transaction_status = fields.String(data_key="transactionStatus", load_default="PENDING")
    total_bill = DecimalString(required=True, data_key="totalBill")


class PaymentsIn(In):
    totals = fields.List(fields.Nested(PriceIn), required=True, validate=validate.Length(min=1))
    shipping_cost = fields.List(fields.Nested(PriceIn), data_key="shippingCost", load_default=list)
    discounts = fields.List(fields.Raw(allow_none=True), load_default=list)
    payment_methods = fields.List(fields.Nested(PaymentMethodIn), required=True, data_key="paymentMethods",
                                  validate=validate.Length(min=1))


class MetadataIn(Open):
    order_token = fields.String()


class InjectOrderIn(In):
    order_id = Text(required=True, data_key="orderId", max_length=64)
    source = fields.String()
    platform = fields.String()
    channel = fields.Nested(RefIn)
    service = fields.Nested(RefIn)
    selected_shipping_method = fields.String(data_key="selectedShippingMethod")
    client = fields.Nested(ClientIn)
    store = fields.Nested(StoreIn, required=True)
    order = fields.Nested(OrderBodyIn, required=True)
    shipping_method = fields.Dict(data_key="shippingMethod")
    payments = fields.Nested(PaymentsIn, required=True)
    metadata = fields.Nested(MetadataIn, load_default=dict)


class RefundIn(In):
    reason = Text(required=True)
    vendor_uid = Text(required=True)
    payment_method_uid = fields.String()
    email = fields.String()
    customer_uid = fields.String()
    anonymous_customer_uid = fields.String()
    store_uid = fields.String()
    media = fields.String(validate=validate.OneOf(["APP", "WEB"]))


def _money(scaled: int) -> str:
    return money.format_scaled(scaled, SCALE)


#: How each field of a stored order is shown, in Fire's key order: (name, how), nested lists by
#: their own specs. Keys an order lacks are left out; a null stays null.
LINE_OUT = (("uid", str), ("product_id", str), ("product", str), ("type", str), ("quantity", int),
            ("unit_price", _money), ("total_price", _money))
TOTAL_OUT = (("currency_code", str), *((name, _money) for name in (
    "subtotal_without_taxes", "discount_percentage", "discounts_value", "subtotal_include_discounts",
    "taxes_percentage", "tax_value", "total")))
PAYMENT_METHOD_OUT = (("uid", str), ("processor", str), ("currency_code", str), ("transaction_status", str),
                      ("total_bill", _money))


def _shown(doc: dict[str, Any], spec: tuple) -> dict[str, Any]:
    return {name: None if (value := doc[name]) is None else how(value) for name, how in spec if name in doc}


def _each(spec: tuple) -> Any:
    return lambda docs: [None if doc is None else _shown(doc, spec) for doc in docs]


ORDER_OUT = (*((name, str) for name in ("uid", "order_code", "account_uid", "vendor_uid", "store_uid", "status",
                                        "payment_status")),
             ("order_lines", _each(LINE_OUT)), ("totals", _each(TOTAL_OUT)),
             ("payment_methods", _each(PAYMENT_METHOD_OUT)), ("metadata", dict),
             ("created_at", str), ("updated_at", str), ("deleted_at", lambda value: value))


HEADERS = Headers()
LOGIN = LoginIn()
INJECT = InjectOrderIn()
REFUND = RefundIn()
REFUND_PATH = RefundPath()


def present_order(order: dict) -> dict:
    """A stored order as Fire returns it: money as 4-decimal strings (a presenter by hand, not
    a marshmallow dump: it is on every refund's path and five times faster)."""
    return _shown(order, ORDER_OUT)
