import { create } from 'zustand';

interface MerchantInbox {
  /** Orders that arrived live since the queue was last looked at, highlighted until handled. */
  fresh: ReadonlySet<string>;
  arrived: (orderId: string) => void;
  seen: (orderId: string) => void;
}

export const useMerchantInbox = create<MerchantInbox>()((set) => ({
  fresh: new Set(),
  arrived: (orderId) => set((s) => ({ fresh: new Set(s.fresh).add(orderId) })),
  seen: (orderId) =>
    set((s) => {
      if (!s.fresh.has(orderId)) return s;
      const fresh = new Set(s.fresh);
      fresh.delete(orderId);
      return { fresh };
    }),
}));
