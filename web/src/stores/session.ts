import type { AuthResponse, Role, User } from '@delivery/contracts';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

export interface SessionState {
  token: string | null;
  user: User | null;
  signIn: (auth: AuthResponse) => void;
  setUser: (user: User) => void;
  signOut: () => void;
}

/**
 * Who is signed in, kept in localStorage so a reload stays signed in. The token goes out as
 * `Authorization: Bearer` on every request and as the first message on the WebSocket.
 */
export const useSession = create<SessionState>()(
  persist(
    (set) => ({
      token: null,
      user: null,
      signIn: ({ token, user }) => set({ token, user }),
      setUser: (user) => set({ user }),
      signOut: () => set({ token: null, user: null }),
    }),
    {
      name: 'delivery.session',
      storage: createJSONStorage(() => localStorage),
      partialize: ({ token, user }) => ({ token, user }),
    },
  ),
);

export function currentRole(): Role | null {
  return useSession.getState().user?.role ?? null;
}
