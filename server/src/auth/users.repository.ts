import type { Role, User } from '@delivery/contracts';
import type { Queryable } from '../db/db.ts';

interface UserRow {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  role: Role;
  merchant_id: string | null;
  password_hash: string;
  created_at: Date;
}

const SELECT_USER = `
  SELECT u.id, u.email, u.name, u.phone, u.role, u.password_hash, u.created_at, m.id AS merchant_id
  FROM users u LEFT JOIN merchants m ON m.owner_id = u.id`;

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    phone: row.phone,
    role: row.role,
    merchantId: row.merchant_id,
    createdAt: row.created_at.toISOString(),
  };
}

export async function findUserByEmail(db: Queryable, email: string) {
  const { rows } = await db.query<UserRow>(`${SELECT_USER} WHERE lower(u.email) = lower($1)`, [
    email,
  ]);
  return rows[0] ? { user: toUser(rows[0]), passwordHash: rows[0].password_hash } : null;
}

export async function findUserById(db: Queryable, id: string): Promise<User | null> {
  const { rows } = await db.query<UserRow>(`${SELECT_USER} WHERE u.id = $1`, [id]);
  return rows[0] ? toUser(rows[0]) : null;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  name: string;
  phone: string | null;
  role: Role;
}

/** Inserts a user; null when the email is taken (the unique index decides, not a prior read). */
export async function insertUser(db: Queryable, u: NewUser): Promise<User | null> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (email, password_hash, name, phone, role) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING
     RETURNING id, email, name, phone, role, password_hash, created_at, NULL::uuid AS merchant_id`,
    [u.email, u.passwordHash, u.name, u.phone, u.role],
  );
  return rows[0] ? toUser(rows[0]) : null;
}

export async function insertDriverProfile(db: Queryable, userId: string, vehicleType: string) {
  await db.query('INSERT INTO drivers (id, vehicle_type) VALUES ($1, $2)', [userId, vehicleType]);
}
