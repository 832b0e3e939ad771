/** The demo's Shopify checkouts, orders and refunds (the envelope is in `shopify.ts`). */
import { business, type Person } from '../people.ts';
import { decimal, type ShopifyStore, shopifyWebhook, shopTime } from './shopify.ts';
import { email, external, hexId, iso, type JourneyStep, type LineItem, phone } from './step.ts';

function shopifyLines(lines: readonly LineItem[]) {
  return lines.map((line, index) => ({
    id: 14_000_000_000_000 + line.variantId + index,
    product_id: line.productId,
    variant_id: line.variantId,
    sku: line.sku,
    title: line.title,
    name: line.title,
    quantity: line.quantity,
    price: decimal(line.price),
    requires_shipping: true,
    taxable: true,
    gift_card: false,
    vendor: business.name,
  }));
}

/** checkouts/create or checkouts/update (the abandoned-checkout resource). */
export function shopifyCheckout(
  phase: number,
  story: string,
  options: {
    person: Person;
    store: ShopifyStore;
    topic: 'checkouts/create' | 'checkouts/update';
    checkoutId: number;
    lines: readonly LineItem[];
    total: number;
    createdAt: Date;
    at: Date;
    completed: boolean;
  },
): JourneyStep {
  const { person, store, at } = options;
  const { currency, utcOffset, domain } = business.shopifyStores[store];
  const token = hexId(`checkout:${options.checkoutId}`, 32);
  const body = {
    id: options.checkoutId,
    token,
    cart_token: hexId(`cart:${options.checkoutId}`, 32),
    email: person.email,
    phone: null,
    buyer_accepts_marketing: true,
    created_at: shopTime(options.createdAt, utcOffset),
    updated_at: shopTime(at, utcOffset),
    completed_at: options.completed ? shopTime(at, utcOffset) : null,
    currency,
    presentment_currency: currency,
    source_name: 'web',
    total_price: decimal(options.total),
    subtotal_price: decimal(options.lines.reduce((sum, line) => sum + line.price * line.quantity, 0)),
    abandoned_checkout_url: `https://${domain}/checkouts/ac/${token}/recover?key=${hexId(`key:${token}`, 16)}`,
    line_items: shopifyLines(options.lines),
    customer: {
      id: person.shopifyCustomerId,
      email: person.email,
      first_name: person.firstName,
      last_name: person.lastName,
      phone: person.phone,
      state: 'enabled',
      currency,
      admin_graphql_api_id: `gid://shopify/Customer/${person.shopifyCustomerId}`,
    },
  };
  return {
    phase,
    story,
    connector: 'shopify',
    topic: options.topic,
    webhook: shopifyWebhook(
      store,
      options.topic,
      `${options.topic}:${options.checkoutId}:${iso(at)}`,
      at,
      body,
    ),
    expected: [
      {
        person: person.id,
        type: 'cart.updated',
        connector: 'shopify',
        at: iso(at),
        identities: [email(person.email), external('shopify', person.shopifyCustomerId), phone(person.phone)],
        cart: {
          cartId: String(options.checkoutId),
          total: { amount: options.total, currency },
          completed: options.completed,
        },
      },
    ],
  };
}

/** orders/create. */
export function shopifyOrder(
  phase: number,
  story: string,
  options: {
    person: Person;
    store: ShopifyStore;
    orderId: number;
    orderNumber: number;
    lines: readonly LineItem[];
    tax: number;
    at: Date;
    checkoutId?: number;
  },
): JourneyStep {
  const { person, store, at } = options;
  const { currency, utcOffset, domain } = business.shopifyStores[store];
  const subtotal = options.lines.reduce((sum, line) => sum + line.price * line.quantity, 0);
  const total = subtotal + options.tax;
  const body = {
    id: options.orderId,
    admin_graphql_api_id: `gid://shopify/Order/${options.orderId}`,
    name: `#${options.orderNumber}`,
    order_number: options.orderNumber,
    number: options.orderNumber - 1000,
    email: person.email,
    contact_email: person.email,
    phone: null,
    created_at: shopTime(at, utcOffset),
    processed_at: shopTime(at, utcOffset),
    updated_at: shopTime(new Date(at.getTime() + 60_000), utcOffset),
    currency,
    presentment_currency: currency,
    subtotal_price: decimal(subtotal),
    total_tax: decimal(options.tax),
    total_price: decimal(total),
    total_discounts: '0.00',
    financial_status: 'paid',
    fulfillment_status: null,
    source_name: 'web',
    checkout_id: options.checkoutId ?? null,
    cancel_reason: null,
    cancelled_at: null,
    buyer_accepts_marketing: true,
    order_status_url: `https://${domain}/orders/${hexId(`order:${options.orderId}`, 32)}/authenticate`,
    payment_gateway_names: ['shopify_payments'],
    test: false,
    customer: {
      id: person.shopifyCustomerId,
      email: person.email,
      first_name: person.firstName,
      last_name: person.lastName,
      phone: null,
      state: 'enabled',
      currency,
      admin_graphql_api_id: `gid://shopify/Customer/${person.shopifyCustomerId}`,
    },
    line_items: shopifyLines(options.lines),
    refunds: [],
    shipping_lines: [],
  };
  return {
    phase,
    story,
    connector: 'shopify',
    topic: 'orders/create',
    webhook: shopifyWebhook(store, 'orders/create', `orders/create:${options.orderId}`, at, body),
    expected: [
      {
        person: person.id,
        type: 'order.placed',
        connector: 'shopify',
        at: iso(at),
        identities: [email(person.email), external('shopify', person.shopifyCustomerId)],
        order: { orderId: String(options.orderId), total: { amount: total, currency }, channel: 'online' },
      },
    ],
  };
}

/** refunds/create: names no customer; the profile writer finds the person by the order id. */
export function shopifyRefund(
  phase: number,
  story: string,
  options: {
    person: Person;
    store: ShopifyStore;
    refundId: number;
    orderId: number;
    amount: number;
    note: string;
    at: Date;
  },
): JourneyStep {
  const { person, store, at } = options;
  const { currency, utcOffset } = business.shopifyStores[store];
  const money = { amount: decimal(options.amount), currency_code: currency };
  const body = {
    id: options.refundId,
    order_id: options.orderId,
    admin_graphql_api_id: `gid://shopify/Refund/${options.refundId}`,
    created_at: shopTime(at, utcOffset),
    processed_at: shopTime(at, utcOffset),
    note: options.note,
    restock: true,
    user_id: null,
    refund_line_items: [
      { id: options.refundId + 7, quantity: 1, restock_type: 'return', subtotal_set: { shop_money: money } },
    ],
    transactions: [
      {
        id: options.refundId + 11,
        order_id: options.orderId,
        kind: 'refund',
        gateway: 'shopify_payments',
        status: 'success',
        amount: decimal(options.amount),
        currency,
        created_at: shopTime(at, utcOffset),
        test: false,
      },
    ],
    order_adjustments: [],
  };
  return {
    phase,
    story,
    connector: 'shopify',
    topic: 'refunds/create',
    webhook: shopifyWebhook(store, 'refunds/create', `refunds/create:${options.refundId}`, at, body),
    expected: [
      {
        person: person.id,
        type: 'order.refunded',
        connector: 'shopify',
        at: iso(at),
        identities: [],
        refund: {
          orderId: String(options.orderId),
          refundId: String(options.refundId),
          amount: { amount: options.amount, currency },
        },
      },
    ],
  };
}
