import { z } from 'zod';
import { IsoDateTime, Role } from './common.ts';

export const VehicleType = z.enum(['bicycle', 'scooter', 'car']);
export type VehicleType = z.infer<typeof VehicleType>;

export const RegisterBody = z
  .object({
    email: z.email().max(254),
    password: z.string().min(8).max(200),
    name: z.string().trim().min(1).max(100),
    phone: z.string().trim().min(3).max(32).optional(),
    role: z.enum(['customer', 'driver', 'merchant']),
    vehicleType: VehicleType.optional(),
  })
  .strict()
  .refine((b) => b.role !== 'driver' || b.vehicleType !== undefined, {
    message: 'vehicleType is required for drivers',
    path: ['vehicleType'],
  });
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z
  .object({ email: z.email().max(254), password: z.string().min(1).max(200) })
  .strict();
export type LoginBody = z.infer<typeof LoginBody>;

export const User = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  phone: z.string().nullable(),
  role: Role,
  merchantId: z.string().nullable(),
  createdAt: IsoDateTime,
});
export type User = z.infer<typeof User>;

export const AuthResponse = z.object({ user: User, token: z.string() });
export type AuthResponse = z.infer<typeof AuthResponse>;

export const MeResponse = z.object({ user: User });

/** `POST /auth/logout-all`: how many sessions (this one included) were revoked. */
export const LogoutAllResponse = z.object({ revoked: z.number().int().min(0) });
export type LogoutAllResponse = z.infer<typeof LogoutAllResponse>;
