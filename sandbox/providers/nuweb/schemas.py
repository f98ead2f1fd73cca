"""Nuweb's wire shapes (camelCase), loaded with marshmallow; 422 on any violation.

Unknown fields are ignored, as Laravel's validator does. Booleans and integers are JSON's
own (no "1"/"true" strings). `uuid` is a string, the key its description speaks of; the
vendor's schema types it boolean, so a boolean is accepted too and is no key at all (the
refund runs as if no uuid was sent; labelled in the contract).
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from sandbox.core.fields import JsonBool, JsonInt, Text
from sandbox.core.schemas import In

TYPES = ("refund", "balance_refund", "cancellation")


class LoginIn(In):
    email = Text(required=True, max_length=255)
    password = Text(required=True, max_length=255)
    device_name = Text(required=True, max_length=255)


class SplitIn(In):
    transaction_id = JsonInt(required=True, data_key="transactionId", minimum=1)
    amount = JsonInt(required=True, minimum=1)


class Uuid(Text):
    """The idempotency key: a string; a boolean (the vendor's schema type) loads as no key (None)."""

    def _deserialize(self, value, attr, data, **kwargs) -> str | None:
        if isinstance(value, bool):
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class RefundIn(In):
    order_id = JsonInt(required=True, data_key="orderId", minimum=1)
    restock = JsonBool(load_default=True)
    refund_processing_fee = JsonBool(data_key="refundProcessingFee",
                                           load_default=True)
    refund_reseller_fee = JsonBool(data_key="refundResellerFee", load_default=True)
    refund_cancelled = JsonBool(data_key="refundCancelled", load_default=False)
    notify_customer = JsonBool(data_key="notifyCustomer", load_default=True)
    online = JsonBool(load_default=False)
    type = fields.String(validate=validate.OneOf(TYPES), load_default="refund")
    uuid = Uuid(max_length=255, load_default=None, allow_none=False)
    refund_splits = fields.List(fields.Nested(SplitIn), data_key="refundSplits", load_default=None,
                                allow_none=False)


class QueryInt(JsonInt):
    """A query-string integer: digits only ("12"), as Laravel's integer rule reads a query."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        elif isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class OrderQuery(In):
    order_id = QueryInt(data_key="orderId", minimum=1)
    order_reference = Text(data_key="orderReference", max_length=64)

    @validates_schema
    def _one_of(self, data, **kwargs):
        if "order_id" not in data and "order_reference" not in data:
            raise ValidationError("The order id field is required when order reference is not present.", "orderId")


LOGIN = LoginIn()
REFUND = RefundIn()
ORDER_QUERY = OrderQuery()


def present_order(order: dict) -> dict:
    """Stored orders are already in Nuweb's shape (integers in minor units)."""
    return order
