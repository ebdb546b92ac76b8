import { hash, verify } from '@node-rs/argon2';

/** argon2id with the OWASP minimum (19 MiB, 2 passes); memory is configurable for tests. */
export class PasswordHasher {
  private readonly dummy: Promise<string>;

  constructor(private readonly memoryKib: number) {
    // Verifying against a throwaway hash keeps "unknown email" as slow as "wrong password".
    this.dummy = this.hash('not-a-real-password');
  }

  hash(password: string): Promise<string> {
    return hash(password, {
      algorithm: 2,
      memoryCost: this.memoryKib,
      timeCost: 2,
      parallelism: 1,
    });
  }

  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    const target = passwordHash ?? (await this.dummy);
    const ok = await verify(target, password).catch(() => false);
    return ok && passwordHash !== null;
  }
}
