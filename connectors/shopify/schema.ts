/**
 * Zod schemas of the Shopify webhook payloads we translate. A webhook body is the REST Admin resource
 * of its topic (field names from `@shopify/shopify-api` `rest/admin/2026-07/{customer,order,refund,
 * transaction,abandoned_checkout}`). Lenient on purpose: unknown keys are accepted, only what a
 * translator needs is required, and Shopify's habit of sending `null` for absent values is accepted
 * everywhere. Unknown keys are stripped from the parsed value (`z.object`): copying them, as
 * `z.looseObject` does, tripled the validation time of a 40-line order (measured with `npm run bench`).
 */
import * as z from 'zod/mini';
import '../../core/zod-messages.ts';

/**
 * A Shopify numeric id as a decimal string. The body parser (`parseJsonKeepingLargeIntegers` in `core/ingest/body.ts`) leaves ids up to 2^53 as
 * numbers and turns larger ones into digit strings, so both forms arrive here.
 */
export const ShopifyId = z.pipe(
  z.union([
    z.number().check(z.int(), z.nonnegative()),
    z.string().check(z.regex(/^\d{1,20}$/, 'a numeric id (unsigned 64-bit)')),
  ]),
  z.transform((id) => String(id)),
);

/** A decimal amount: Shopify sends strings ("199.00"); a bare number is tolerated. */
export const Decimal = z.union([
  // Bounded so that an absurd amount is refused here, not echoed back from the money conversion.
  z.string().check(z.regex(/^-?\d{1,15}(?:\.\d{1,12})?$/, 'a decimal amount such as "199.00"')),
  z.number().check(z.gte(-1e15), z.lte(1e15)),
]);

const CurrencyCode = z.string().check(z.regex(/^[A-Za-z]{3}$/, 'an ISO 4217 currency code'));

// zod schemas are immutable, so a leaf used by many fields is built once (each instance costs cold
// start) and shared.
const text = z.nullish(z.string());
const optionalId = z.nullish(ShopifyId);
const optionalDecimal = z.nullish(Decimal);

/** `email_marketing_consent` / `sms_marketing_consent`: `state` is lower case in REST payloads. */
export const MarketingConsent = z.object({
  state: text,
  opt_in_level: text,
  consent_updated_at: text,
});

const optionalConsent = z.nullish(MarketingConsent);

export const MailingAddress = z.object({
  address1: text,
  address2: text,
  city: text,
  province: text,
  province_code: text,
  zip: text,
  country: text,
  country_code: text,
});
export type MailingAddress = z.infer<typeof MailingAddress>;

/** customers/create, customers/update. */
export const Customer = z.object({
  id: ShopifyId,
  email: text,
  first_name: text,
  last_name: text,
  phone: text,
  /** A comma-separated string in REST payloads. Dropped from customer payloads from API 2025-01. */
  tags: z.nullish(z.union([z.string(), z.array(z.string())])),
  default_address: z.nullish(MailingAddress),
  /** Dropped from customer payloads from API 2025-01 (own topics since). */
  email_marketing_consent: optionalConsent,
  sms_marketing_consent: optionalConsent,
  created_at: text,
  updated_at: text,
});
export type Customer = z.infer<typeof Customer>;

/** customers/delete: little more than the id. */
export const DeletedCustomer = z.object({ id: ShopifyId, updated_at: text });
export type DeletedCustomer = z.infer<typeof DeletedCustomer>;

/** The buyer as embedded in orders and checkouts. */
const Buyer = z.object({ id: optionalId, email: text, phone: text });
const optionalBuyer = z.nullish(Buyer);

/** A line of an order or checkout. Checkout line ids are string keys, so `id` is not read. */
export const LineItem = z.object({
  product_id: optionalId,
  variant_id: optionalId,
  sku: text,
  title: text,
  quantity: z.number().check(z.int()),
  price: optionalDecimal,
});
export type LineItem = z.infer<typeof LineItem>;
const optionalLineItems = z.nullish(z.array(LineItem));

/** orders/create, orders/paid, orders/cancelled: one Order shape. Amounts are in `currency` (shop). */
export const Order = z.object({
  id: ShopifyId,
  name: text,
  email: text,
  phone: text,
  currency: CurrencyCode,
  total_price: Decimal,
  subtotal_price: optionalDecimal,
  total_tax: optionalDecimal,
  financial_status: text,
  source_name: text,
  cancel_reason: text,
  cancelled_at: text,
  created_at: text,
  processed_at: text,
  updated_at: text,
  customer: optionalBuyer,
  line_items: optionalLineItems,
});
export type Order = z.infer<typeof Order>;

/** `*_set` money: the amount in the shop's and in the buyer's (presentment) currency. */
const MoneyBag = z.object({
  shop_money: z.nullish(z.object({ amount: optionalDecimal, currency_code: text })),
});
const optionalMoneyBag = z.nullish(MoneyBag);

export const Transaction = z.object({
  id: optionalId,
  kind: text,
  status: text,
  amount: optionalDecimal,
  currency: text,
});
export type Transaction = z.infer<typeof Transaction>;

/** refunds/create. Carries no customer: the order id is the link. */
export const Refund = z.object({
  id: ShopifyId,
  order_id: ShopifyId,
  note: text,
  created_at: text,
  processed_at: text,
  transactions: z.nullish(z.array(Transaction)),
  refund_line_items: z.nullish(z.array(z.object({ subtotal_set: optionalMoneyBag }))),
  order_adjustments: z.nullish(z.array(z.object({ amount_set: optionalMoneyBag }))),
});
export type Refund = z.infer<typeof Refund>;

/**
 * checkouts/create, checkouts/update (the abandoned-checkout resource). The REST resource has a
 * numeric `id` and a `token`; Shopify's published samples for these topics (webhooks reference
 * 2026-07) carry only `token`, so either one identifies the checkout.
 */
export const Checkout = z
  .object({
    id: optionalId,
    token: text,
    email: text,
    phone: text,
    currency: CurrencyCode,
    total_price: Decimal,
    abandoned_checkout_url: text,
    completed_at: text,
    created_at: text,
    updated_at: text,
    customer: optionalBuyer,
    line_items: optionalLineItems,
  })
  .check(
    z.refine((checkout) => checkout.id != null || (checkout.token != null && checkout.token.trim() !== ''), {
      message: 'id or token is required',
      path: ['id'],
    }),
  );
export type Checkout = z.infer<typeof Checkout>;

/**
 * customers_email_marketing_consent/update: `{ customer_id, email_address, email_marketing_consent }`
 * (shopify.dev webhook reference). `id` is accepted too in case a version names it that way.
 */
export const EmailConsentUpdate = z
  .object({
    customer_id: optionalId,
    id: optionalId,
    email_address: text,
    email_marketing_consent: MarketingConsent,
  })
  .check(
    z.refine((payload) => payload.customer_id != null || payload.id != null, {
      message: 'customer_id is required',
      path: ['customer_id'],
    }),
  );
export type EmailConsentUpdate = z.infer<typeof EmailConsentUpdate>;

/**
 * customers_marketing_consent/update (SMS): `{ id, phone, sms_marketing_consent }`. Unlike the email
 * topic the customer id is `id`; `customer_id` is accepted too (not confirmed by a primary source).
 */
export const SmsConsentUpdate = z
  .object({
    id: optionalId,
    customer_id: optionalId,
    phone: text,
    sms_marketing_consent: MarketingConsent,
  })
  .check(
    z.refine((payload) => payload.id != null || payload.customer_id != null, {
      message: 'id is required',
      path: ['id'],
    }),
  );
export type SmsConsentUpdate = z.infer<typeof SmsConsentUpdate>;
