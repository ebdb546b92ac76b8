import {
  AuthResponse,
  MeResponse,
  type LoginBody,
  type RegisterBody,
  type User,
} from '@delivery/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../stores/session.ts';
import { request } from './client.ts';

export const authKeys = { me: ['auth', 'me'] as const };

export function useLogin() {
  const signIn = useSession((s) => s.signIn);
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: LoginBody) => request('/auth/login', AuthResponse, { method: 'POST', body }),
    onSuccess: (auth) => {
      queryClient.clear();
      signIn(auth);
    },
  });
}

export function useRegister() {
  const signIn = useSession((s) => s.signIn);
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: RegisterBody) =>
      request('/auth/register', AuthResponse, { method: 'POST', body }),
    onSuccess: (auth) => {
      queryClient.clear();
      signIn(auth);
    },
  });
}

export function useLogout() {
  const signOut = useSession((s) => s.signOut);
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => request('/auth/logout', null, { method: 'POST' }),
    // Signed out locally whatever the server says: an expired session is signed out already.
    onSettled: () => {
      signOut();
      queryClient.clear();
    },
  });
}

/** Re-reads the signed-in user (role, store) so a stale localStorage copy is corrected. */
export function useMe(enabled: boolean) {
  const setUser = useSession((s) => s.setUser);
  return useQuery({
    queryKey: authKeys.me,
    enabled,
    queryFn: async (): Promise<User> => {
      const { user } = await request('/auth/me', MeResponse);
      setUser(user);
      return user;
    },
    staleTime: 60_000,
  });
}
