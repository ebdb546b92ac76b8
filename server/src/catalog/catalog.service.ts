import type {
  Merchant,
  MenuItem,
  MenuItemCreateBody,
  MenuItemPatchBody,
  MerchantsQuery,
  StorePatchBody,
} from '@delivery/contracts';
import type { Db } from '../db/db.ts';
import { DomainError, notFound } from '../errors.ts';
import * as repo from './catalog.repository.ts';

export type CatalogService = ReturnType<typeof createCatalogService>;

export function createCatalogService({ db }: { db: Db }) {
  async function ownStore(ownerId: string) {
    const row = await repo.findMerchantByOwner(db, ownerId);
    if (!row)
      throw new DomainError('NOT_FOUND', 'You do not run a store yet; ask an admin to attach one');
    return row;
  }

  return {
    async nearby(q: MerchantsQuery): Promise<Merchant[]> {
      const near =
        q.lat !== undefined && q.lng !== undefined ? { lat: q.lat, lng: q.lng } : undefined;
      const rows = await repo.searchMerchants(db, {
        ...(near ? { near } : {}),
        ...(q.radiusKm !== undefined ? { radiusKm: q.radiusKm } : {}),
        ...(q.category ? { category: q.category } : {}),
        ...(q.q ? { q: q.q } : {}),
        limit: q.limit,
      });
      return rows.map(repo.toMerchant);
    },

    async merchant(id: string): Promise<Merchant> {
      const row = await repo.findMerchant(db, id);
      if (!row) throw notFound('Merchant');
      return repo.toMerchant(row);
    },

    async menu(merchantId: string): Promise<MenuItem[]> {
      if (!(await repo.findMerchant(db, merchantId))) throw notFound('Merchant');
      return repo.listMenu(db, merchantId);
    },

    async store(ownerId: string): Promise<Merchant> {
      return repo.toMerchant(await ownStore(ownerId));
    },

    async updateStore(ownerId: string, patch: StorePatchBody): Promise<Merchant> {
      const store = await ownStore(ownerId);
      const row = await repo.updateStore(db, store.id, patch);
      if (!row) throw notFound('Store');
      return repo.toMerchant(row);
    },

    async addMenuItem(ownerId: string, body: MenuItemCreateBody): Promise<MenuItem> {
      const store = await ownStore(ownerId);
      return repo.insertMenuItem(db, store.id, body);
    },

    async updateMenuItem(ownerId: string, id: string, body: MenuItemPatchBody): Promise<MenuItem> {
      const store = await ownStore(ownerId);
      const item = await repo.updateMenuItem(db, store.id, id, body);
      if (!item) throw notFound('Menu item');
      return item;
    },

    async removeMenuItem(ownerId: string, id: string): Promise<void> {
      const store = await ownStore(ownerId);
      if (!(await repo.softDeleteMenuItem(db, store.id, id))) throw notFound('Menu item');
    },
  };
}
