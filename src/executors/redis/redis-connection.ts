import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../../errors.ts';

/**
 * ioredis options for a `redis://` or `rediss://` (TLS) URL:
 * `redis[s]://[[user]:password@]host[:port][/db]`. Every connection retries forever while Redis is
 * down (`maxRetriesPerRequest: null`, which BullMQ requires) and speaks RESP2, the protocol BullMQ
 * 6 is developed against (ioredis 6 defaults to RESP3).
 * Throws `ConfigError` naming the URL with its password redacted.
 */
export function parseRedisUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      `invalid Redis URL ${redactRedisUrl(url)}: expected redis://host:port or rediss://:password@host:port`,
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`invalid Redis URL ${redactRedisUrl(url)}: the scheme must be redis:// or rediss:// (TLS)`);
  }
  const database = parsed.pathname.replace(/^\//, '');
  if (database !== '' && !/^\d+$/.test(database)) {
    throw new ConfigError(`invalid Redis URL ${redactRedisUrl(url)}: the path must be a database number, e.g. /0`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host: host || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(database ? { db: Number(database) } : {}),
    // Certificates are checked against the system CAs; add a private CA with NODE_EXTRA_CA_CERTS.
    ...(parsed.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
    protocol: 2,
    maxRetriesPerRequest: null,
  };
}

/** The URL with its password replaced by `***`, safe for logs, errors and files. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    // Unparsable: show nothing of it, it may hold a password.
    return '<unparsable Redis URL>';
  }
}

export interface RedisClientOptions {
  /** Shown in `CLIENT LIST`. */
  connectionName?: string;
  /** Receives connection errors (ioredis retries on its own); at most one per message per 10 s. */
  onError?: (error: Error) => void;
}

/** A client for `url` that never emits an unhandled `error` event. The caller quits it. */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const client = new Redis({
    ...parseRedisUrl(url),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  });
  client.on('error', throttleErrors(options.onError));
  return client;
}

/** Wraps an error listener so a Redis outage logs one line per distinct message per 10 s, not one per retry. */
function throttleErrors(onError: ((error: Error) => void) | undefined, intervalMs = 10_000): (error: Error) => void {
  const lastSeen = new Map<string, number>();
  return (error: Error) => {
    const now = Date.now();
    if ((lastSeen.get(error.message) ?? 0) + intervalMs > now) return;
    lastSeen.set(error.message, now);
    onError?.(error);
  };
}
