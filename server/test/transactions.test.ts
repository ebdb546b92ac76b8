import { createServer, connect, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/db.ts';
import { createPgliteDb } from '../src/db/pglite.ts';
import { createPostgresDb } from '../src/db/postgres.ts';
import { createDatabase } from './platform.ts';

/**
 * The transaction wrapper both databases share: `commitWith` ends a transaction with its last
 * statement, and a transaction whose statement failed never reports a commit. On PostgreSQL,
 * BEGIN and COMMIT travel with their neighbouring statements (pipelining), counted on the wire.
 */
const real = Boolean(process.env.DATABASE_URL);
const hookErrors: unknown[] = [];
const onAfterCommitError = (err: unknown) => hookErrors.push(err);

let db: Db;
let dropDatabase: (() => Promise<void>) | undefined;
let databaseUrl = '';

beforeAll(async () => {
  if (real) {
    const own = await createDatabase(process.env.DATABASE_URL!);
    databaseUrl = own.url;
    dropDatabase = () => own.drop();
    db = createPostgresDb({ url: own.url, poolSize: 2, onAfterCommitError });
  } else {
    db = await createPgliteDb({ onAfterCommitError });
  }
  await db.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
});

afterAll(async () => {
  await db?.close();
  await dropDatabase?.();
});

const bodies = async () =>
  (await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id')).rows.map((r) => r.body);

describe(`transactions (${real ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('commitWith answers with its last statement, commits, then runs the after-commit hooks', async () => {
    const ran: string[] = [];
    const value = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES ($1, $2)', [1, 'first']);
      tx.afterCommit(() => ran.push('hook'));
      return tx.commitWith(
        tx
          .query<{ n: number }>('SELECT count(*)::int AS n FROM notes WHERE id = $1', [1])
          .then((r) => r.rows[0]!.n),
      );
    });
    expect(value).toBe(1);
    expect(ran).toEqual(['hook']);
    expect(await bodies()).toEqual(['first']);
  });

  it('rolls back everything, and runs no hook, when the last statement fails', async () => {
    const ran: string[] = [];
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [2, 'second']);
        tx.afterCommit(() => ran.push('hook'));
        // A duplicate key: the statement COMMIT travels with fails.
        return tx.commitWith(tx.query('INSERT INTO notes VALUES ($1, $2)', [1, 'again']));
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(ran).toEqual([]);
    expect(await bodies()).toEqual(['first']);
  });

  it('never reports a commit for a transaction whose statement failed and was caught', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [3, 'third']);
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [1, 'duplicate']).catch(() => null);
        return 'looks fine';
      }),
    ).rejects.toThrow(/roll/i);
    expect(await bodies()).toEqual(['first']);
  });

  it('lets statements sent at once finish before the transaction ends', async () => {
    await db.transaction(async (tx) => {
      await Promise.all([
        tx.query('INSERT INTO notes VALUES ($1, $2)', [4, 'fourth']),
        tx.query('INSERT INTO notes VALUES ($1, $2)', [5, 'fifth']),
      ]);
    });
    expect(await bodies()).toEqual(['first', 'fourth', 'fifth']);
    expect(hookErrors).toEqual([]);
  });

  it.runIf(real)('refuses a statement after commitWith', async () => {
    await expect(
      db.transaction(async (tx) => {
        const done = tx.commitWith(tx.query('SELECT 1'));
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [6, 'late']);
        return done;
      }),
    ).rejects.toThrow(/already been committed/);
    expect(await bodies()).toEqual(['first', 'fourth', 'fifth']);
  });
});

/**
 * A TCP relay between one pooled connection and PostgreSQL that holds every answer for a moment
 * and counts the client's flights: a flight is what the client sends before it is next answered.
 * A client that waits for BEGIN's answer before its first statement makes one flight more.
 */
function flightCounter(target: URL) {
  let flights = 0;
  let answered = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (answered) flights += 1;
      answered = false;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      setTimeout(() => {
        answered = true;
        client.write(chunk);
      }, 20);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  return {
    async listen(): Promise<number> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as { port: number }).port;
    },
    reset: () => void (flights = 0),
    flights: () => flights,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.runIf(real)('round trips of a transaction on PostgreSQL', () => {
  it('sends BEGIN with the first statement and COMMIT with the last: two flights for four statements', async () => {
    const relay = flightCounter(new URL(databaseUrl));
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(await relay.listen());
    const viaRelay = createPostgresDb({ url: url.toString(), poolSize: 1, onAfterCommitError });
    try {
      await viaRelay.query('SELECT 1'); // the connection's start-up is not counted
      relay.reset();
      const body = await viaRelay.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2)', [7, 'relayed']);
        return tx.commitWith(
          tx
            .query<{ body: string }>('SELECT body FROM notes WHERE id = $1', [7])
            .then((r) => r.rows[0]!.body),
        );
      });
      expect(body).toBe('relayed');
      expect(relay.flights()).toBe(2);
    } finally {
      await viaRelay.close();
      await relay.close();
    }
    expect(await bodies()).toContain('relayed');
  });

  it('writes a flight to its socket at once: BEGIN, two statements and COMMIT in one write', async () => {
    const relay = flightCounter(new URL(databaseUrl));
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    const port = await relay.listen();
    url.port = String(port);
    const viaRelay = createPostgresDb({ url: url.toString(), poolSize: 1, onAfterCommitError });
    // Every write of a socket to the relay, as the stream hands it to the operating system.
    const writes: number[] = [];
    type Write = (this: Socket, ...args: unknown[]) => unknown;
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', Write>;
    const original = { _write: proto._write, _writev: proto._writev };
    for (const key of ['_write', '_writev'] as const) {
      proto[key] = function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === port) writes.push(key === '_writev' ? (args[0] as []).length : 1);
        return original[key].apply(this, args);
      };
    }
    try {
      await viaRelay.query('SELECT 1'); // the connection's start-up is not counted
      writes.length = 0;
      relay.reset();
      const [, read] = await viaRelay.transaction((tx) =>
        tx.commitWith(
          Promise.all([
            tx.query('INSERT INTO notes VALUES ($1, $2)', [8, 'in one write']),
            tx.query<{ body: string }>('SELECT body FROM notes WHERE id = $1', [8]),
          ]),
        ),
      );
      expect(read.rows[0]!.body).toBe('in one write');
      // One write of all the flight's messages (without holding them: four writes).
      expect(writes.length).toBe(1);
      expect(relay.flights()).toBe(1);
    } finally {
      Object.assign(proto, original);
      await viaRelay.close();
      await relay.close();
    }
  });
});
