import type { OrderStatus } from '@delivery/contracts';
import type { StatusChange } from '../orders/orders.service.ts';

export type Audience = 'customer' | 'merchant' | 'driver';

export interface Message {
  title: string;
  body: string;
}

interface Context {
  ref: string;
  store: string;
  address: string;
  by: StatusChange['actor']['role'];
  reason: string | null;
}

type Texts = Record<Audience, (c: Context) => Message>;

const BY: Record<Context['by'], string> = {
  customer: 'the customer',
  merchant: 'the store',
  driver: 'the driver',
  admin: 'support',
  system: 'support',
};

function cancelled(c: Context, audience: Audience): Message {
  const reason = c.reason ? ` Reason: ${c.reason}.` : '';
  if (audience === 'customer') {
    if (c.by === 'merchant')
      return { title: 'Order declined', body: `${c.store} could not take your order.${reason}` };
    const by = c.by === 'customer' ? 'You cancelled' : 'Support cancelled';
    return { title: 'Order cancelled', body: `${by} your order from ${c.store}.${reason}` };
  }
  const tail = audience === 'driver' ? ' No pickup needed.' : '';
  return {
    title: 'Order cancelled',
    body: `Order ${c.ref} was cancelled by ${BY[c.by]}.${reason}${tail}`,
  };
}

const TEXTS: Record<Exclude<OrderStatus, 'cancelled'>, Texts> = {
  pending: {
    customer: (c) => ({ title: 'Order placed', body: `${c.store} has received your order.` }),
    merchant: (c) => ({
      title: 'New order',
      body: `Order ${c.ref} is waiting for you to confirm it.`,
    }),
    driver: (c) => ({ title: 'New order', body: `Order ${c.ref} was placed at ${c.store}.` }),
  },
  confirmed: {
    customer: (c) => ({ title: 'Order confirmed', body: `${c.store} confirmed your order.` }),
    merchant: (c) => ({ title: 'Order confirmed', body: `You confirmed order ${c.ref}.` }),
    driver: (c) => ({ title: 'Order confirmed', body: `${c.store} confirmed order ${c.ref}.` }),
  },
  preparing: {
    customer: (c) => ({
      title: 'Preparing your order',
      body: `${c.store} is preparing your order.`,
    }),
    merchant: (c) => ({ title: 'Order in preparation', body: `Order ${c.ref} is being prepared.` }),
    driver: (c) => ({
      title: 'Food in preparation',
      body: `${c.store} is preparing order ${c.ref}.`,
    }),
  },
  ready_for_pickup: {
    customer: (c) => ({ title: 'Ready for pickup', body: `Your order is ready at ${c.store}.` }),
    merchant: (c) => ({
      title: 'Ready for pickup',
      body: `Order ${c.ref} is waiting for its driver.`,
    }),
    driver: (c) => ({ title: 'Ready for pickup', body: `Order ${c.ref} is ready at ${c.store}.` }),
  },
  picked_up: {
    customer: (c) => ({ title: 'On its way', body: `Your order from ${c.store} is on its way.` }),
    merchant: (c) => ({ title: 'Picked up', body: `The driver picked up order ${c.ref}.` }),
    driver: (c) => ({ title: 'Picked up', body: `Deliver order ${c.ref} to ${c.address}.` }),
  },
  delivered: {
    customer: (c) => ({
      title: 'Delivered',
      body: `Your order from ${c.store} was delivered. Enjoy!`,
    }),
    merchant: (c) => ({ title: 'Delivered', body: `Order ${c.ref} was delivered.` }),
    driver: (c) => ({ title: 'Delivered', body: `Order ${c.ref} is complete. Thank you!` }),
  },
};

/** What one party reads about a status change, in the words of its own role. */
export function messageFor(audience: Audience, change: StatusChange): Message {
  const { order, to, actor } = change;
  const context: Context = {
    ref: `#${order.id.slice(0, 8)}`,
    store: order.merchant_name,
    address: order.delivery_address,
    by: actor.role,
    reason: order.cancel_reason,
  };
  return to === 'cancelled' ? cancelled(context, audience) : TEXTS[to][audience](context);
}
