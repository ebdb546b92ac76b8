import type { Session } from '../auth/auth.service.ts';
import type { StoreOfOwner } from '../catalog/store-of-owner.ts';
import type { Queryable } from '../db/db.ts';
import { findOrderRow } from '../orders/orders.repository.ts';

/** Who a socket is signed in as: what access checks need of a session. */
export type Principal = Pick<Session, 'userId' | 'role'>;

async function ownsMerchant(storeOf: StoreOfOwner, session: Principal, merchantId: string) {
  if (session.role !== 'merchant') return false;
  return (await storeOf(session.userId)) === merchantId;
}

/**
 * Who may listen to a channel: `order:<id>` its customer, its store's owner and its assigned
 * driver; `merchant:<id>` its owner; `driver:<id>` that driver; `fleet` nobody but admins, who
 * may listen everywhere. Unknown ids and malformed names are refused like foreign ones.
 * `storeOf` answers which store a merchant user runs (cached: an owner never changes).
 */
export async function canSubscribe(
  db: Queryable,
  storeOf: StoreOfOwner,
  session: Principal,
  channel: string,
): Promise<boolean> {
  if (session.role === 'admin') return true;
  const [kind, id] = channel.split(':', 2);
  if (!id) return false;
  if (kind === 'driver') return session.role === 'driver' && session.userId === id;
  if (kind === 'merchant') return ownsMerchant(storeOf, session, id);
  if (kind !== 'order') return false;
  const order = await findOrderRow(db, id);
  if (!order) return false;
  return (
    order.customer_id === session.userId ||
    order.driver_id === session.userId ||
    (await ownsMerchant(storeOf, session, order.merchant_id))
  );
}
