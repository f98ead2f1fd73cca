"""Fire's wire shapes: camelCase requests in, snake_case orders out (marshmallow).

Requests ignore unknown fields (Fire documents none as forbidden). Money arrives as decimal
strings with up to 4 decimals inside Fire's price objects (a line's unitPrice and totalPrice
are price objects too; the stored line keeps their `total`) and is stored as integers scaled
by 10**4; `OrderOut` renders it back as 4-decimal strings, Fire's "external, unscaled" amounts.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from sandbox.core import money
from sandbox.core.fields import DecimalString, JsonInt, Money, Text
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


class OrderLineOut(Schema):
    uid = fields.String()
    product_id = fields.String()
    product = fields.String()
    type = fields.String()
    quantity = fields.Integer()
    unit_price = Money(SCALE)
    total_price = Money(SCALE)


class TotalOut(Schema):
    currency_code = fields.String()
    subtotal_without_taxes = Money(SCALE)
    discount_percentage = Money(SCALE)
    discounts_value = Money(SCALE)
    subtotal_include_discounts = Money(SCALE)
    taxes_percentage = Money(SCALE)
    tax_value = Money(SCALE)
    total = Money(SCALE)


class PaymentMethodOut(Schema):
    uid = fields.String()
    processor = fields.String()
    currency_code = fields.String()
    transaction_status = fields.String()
    total_bill = Money(SCALE)


class OrderOut(Schema):
    uid = fields.String()
    order_code = fields.String()
    account_uid = fields.String()
    vendor_uid = fields.String()
    store_uid = fields.String()
    status = fields.String()
    payment_status = fields.String()
    order_lines = fields.List(fields.Nested(OrderLineOut))
    totals = fields.List(fields.Nested(TotalOut))
    payment_methods = fields.List(fields.Nested(PaymentMethodOut))
    metadata = fields.Dict()
    created_at = fields.String()
    updated_at = fields.String()
    deleted_at = fields.Raw()


HEADERS = Headers()
LOGIN = LoginIn()
INJECT = InjectOrderIn()
REFUND = RefundIn()
REFUND_PATH = RefundPath()
ORDER_OUT = OrderOut()


def present_order(order: dict) -> dict:
    """A stored order as Fire returns it."""
    return ORDER_OUT.dump(order)
