import {
  MenuItemResponse,
  MenuResponse,
  MerchantList,
  MerchantResponse,
  StoreResponse,
  type MenuItemCreateBody,
  type MenuItemPatchBody,
  type StorePatchBody,
} from '@delivery/contracts';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { request } from './client.ts';

export interface MerchantSearch {
  lat?: number;
  lng?: number;
  q?: string;
  category?: string;
}

export const catalogKeys = {
  merchants: (search: MerchantSearch) => ['merchants', search] as const,
  merchant: (id: string) => ['merchant', id] as const,
  menu: (id: string) => ['menu', id] as const,
  store: ['merchant-store'] as const,
};

export function useMerchants(search: MerchantSearch) {
  return useQuery({
    queryKey: catalogKeys.merchants(search),
    queryFn: ({ signal }) => request('/merchants', MerchantList, { query: { ...search }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useMerchant(id: string | undefined) {
  return useQuery({
    queryKey: catalogKeys.merchant(id ?? ''),
    enabled: Boolean(id),
    queryFn: async ({ signal }) =>
      (await request(`/merchants/${id}`, MerchantResponse, { signal })).merchant,
  });
}

export function useMenu(merchantId: string | undefined) {
  return useQuery({
    queryKey: catalogKeys.menu(merchantId ?? ''),
    enabled: Boolean(merchantId),
    queryFn: async ({ signal }) =>
      (await request(`/merchants/${merchantId}/menu`, MenuResponse, { signal })).items,
  });
}

/* ---- The merchant's own store and menu (`/merchant/store`, `/merchant/menu-items`) ---- */

export function useStore() {
  return useQuery({
    queryKey: catalogKeys.store,
    queryFn: async ({ signal }) =>
      (await request('/merchant/store', StoreResponse, { signal })).merchant,
  });
}

export function useUpdateStore() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (patch: StorePatchBody) =>
      (await request('/merchant/store', StoreResponse, { method: 'PATCH', body: patch })).merchant,
    onSuccess: (merchant) => {
      queryClient.setQueryData(catalogKeys.store, merchant);
      void queryClient.invalidateQueries({ queryKey: ['merchants'] });
    },
  });
}

function useInvalidateMenu(merchantId: string | null | undefined) {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: catalogKeys.menu(merchantId ?? '') });
}

export function useAddMenuItem(merchantId: string | null | undefined) {
  const invalidate = useInvalidateMenu(merchantId);
  return useMutation({
    mutationFn: async (body: Partial<MenuItemCreateBody> & { name: string; priceCents: number }) =>
      (await request('/merchant/menu-items', MenuItemResponse, { method: 'POST', body })).item,
    onSuccess: invalidate,
  });
}

export function useUpdateMenuItem(merchantId: string | null | undefined) {
  const invalidate = useInvalidateMenu(merchantId);
  return useMutation({
    mutationFn: async ({ id, patch }: { id: string; patch: MenuItemPatchBody }) =>
      (
        await request(`/merchant/menu-items/${id}`, MenuItemResponse, {
          method: 'PATCH',
          body: patch,
        })
      ).item,
    onSuccess: invalidate,
  });
}

export function useRemoveMenuItem(merchantId: string | null | undefined) {
  const invalidate = useInvalidateMenu(merchantId);
  return useMutation({
    mutationFn: (id: string) => request(`/merchant/menu-items/${id}`, null, { method: 'DELETE' }),
    onSuccess: invalidate,
  });
}
