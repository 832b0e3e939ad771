/**
 * Zod schemas of the Square webhook payloads we translate (snake_case, as sent on the wire).
 *
 * Lenient by design: unknown keys are accepted (and stripped from the parsed value) because Square
 * adds fields without notice, and only the fields the translators read are declared. Square marks most fields nullable,
 * so optional fields accept `null` too (`nullish`). Field names come from the Square API reference
 * (developer.squareup.com/reference/square/webhooks/...) and the `square` SDK v46 types
 * (`api/types/{Customer,Payment,PaymentRefund,LoyaltyAccount}.d.ts`, camelCased there).
 */
import * as z from 'zod/mini';
import '../../core/zod-messages.ts';

/** RFC 3339 timestamps as Square writes them (`2020-02-06T22:14:16.421Z`, or with an offset). */
const Timestamp = z.iso.datetime({ offset: true });

// zod schemas are immutable, so a leaf used by many fields is built once (each instance costs cold
// start) and shared.
const Text = z.string();
const OptionalText = z.nullish(Text);
const NonEmptyText = z.string().check(z.minLength(1));
const Integer = z.number().check(z.int());
const OptionalTimestamp = z.nullish(Timestamp);

/**
 * Square `Money`: `amount` is already in the currency's minor unit (cents, yen) and an int64 on
 * Square's side; zod's `z.int()` refuses values JSON cannot carry exactly (beyond 2^53). The currency
 * code is checked by the translators, which can say which field was wrong.
 */
export const SquareMoney = z.object({
  amount: Integer,
  currency: Text,
});
export type SquareMoney = z.infer<typeof SquareMoney>;
const OptionalMoney = z.nullish(SquareMoney);

/** The envelope every Square webhook event shares; `data.object` holds the resource. */
function squareEvent<D extends z.ZodMiniType>(data: D) {
  return z.object({
    merchant_id: OptionalText,
    type: Text,
    event_id: NonEmptyText,
    created_at: Timestamp,
    data,
  });
}

export const SquareAddress = z.object({
  address_line_1: OptionalText,
  address_line_2: OptionalText,
  locality: OptionalText,
  administrative_district_level_1: OptionalText,
  postal_code: OptionalText,
  country: OptionalText,
});
export type SquareAddress = z.infer<typeof SquareAddress>;

export const SquareCustomer = z.object({
  id: NonEmptyText,
  given_name: OptionalText,
  family_name: OptionalText,
  company_name: OptionalText,
  email_address: OptionalText,
  phone_number: OptionalText,
  address: z.nullish(SquareAddress),
  preferences: z.nullish(z.object({ email_unsubscribed: z.nullish(z.boolean()) })),
  updated_at: OptionalTimestamp,
});
export type SquareCustomer = z.infer<typeof SquareCustomer>;

/** Present on `customer.created` (and `customer.deleted`) when the event comes from a merge. */
const MergeContext = z.object({
  merge: z.nullish(
    z.object({
      from_customer_ids: z.nullish(z.array(NonEmptyText)),
      to_customer_id: z.nullish(NonEmptyText),
    }),
  ),
});

/** `customer.created` and `customer.updated`: the whole customer (without `segment_ids`). */
export const CustomerEvent = squareEvent(
  z.object({
    id: OptionalText,
    object: z.object({ customer: SquareCustomer, event_context: z.nullish(MergeContext) }),
  }),
);
export type CustomerEvent = z.infer<typeof CustomerEvent>;

/** `customer.deleted`: `data.id` is the deleted customer's id; the object is informative only. */
export const CustomerDeletedEvent = squareEvent(
  z.object({
    id: NonEmptyText,
    object: z.nullish(z.object({ customer: z.nullish(z.object({ id: OptionalText })) })),
  }),
);
export type CustomerDeletedEvent = z.infer<typeof CustomerDeletedEvent>;

export const SquarePayment = z.object({
  id: NonEmptyText,
  status: Text,
  amount_money: OptionalMoney,
  tip_money: OptionalMoney,
  total_money: OptionalMoney,
  order_id: OptionalText,
  customer_id: OptionalText,
  buyer_email_address: OptionalText,
  receipt_number: OptionalText,
  application_details: z.nullish(z.object({ square_product: OptionalText })),
  updated_at: OptionalTimestamp,
});
export type SquarePayment = z.infer<typeof SquarePayment>;

/** `payment.created` and `payment.updated`. */
export const PaymentEvent = squareEvent(z.object({ object: z.object({ payment: SquarePayment }) }));
export type PaymentEvent = z.infer<typeof PaymentEvent>;

export const SquareRefund = z.object({
  id: NonEmptyText,
  status: Text,
  amount_money: OptionalMoney,
  order_id: OptionalText,
  payment_id: OptionalText,
  reason: OptionalText,
  updated_at: OptionalTimestamp,
});
export type SquareRefund = z.infer<typeof SquareRefund>;

/** `refund.created` and `refund.updated`. */
export const RefundEvent = squareEvent(z.object({ object: z.object({ refund: SquareRefund }) }));
export type RefundEvent = z.infer<typeof RefundEvent>;

export const SquareLoyaltyAccount = z.object({
  id: NonEmptyText,
  // Can be negative after a manual adjustment or a refund (LoyaltyAccount reference).
  balance: Integer,
  lifetime_points: z.nullish(Integer),
  customer_id: OptionalText,
  mapping: z.nullish(z.object({ phone_number: OptionalText })),
  updated_at: OptionalTimestamp,
});
export type SquareLoyaltyAccount = z.infer<typeof SquareLoyaltyAccount>;

/** `loyalty.account.updated`. */
export const LoyaltyAccountEvent = squareEvent(
  z.object({ object: z.object({ loyalty_account: SquareLoyaltyAccount }) }),
);
export type LoyaltyAccountEvent = z.infer<typeof LoyaltyAccountEvent>;
