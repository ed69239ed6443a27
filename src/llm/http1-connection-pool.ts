import net from 'node:net';
import tls from 'node:tls';
import { Http1Connection } from './http1-connection.ts';

/**
 * Keep-alive HTTP/1.1 connections to one origin (`http:` or `https:`), reused last in, first out
 * so a few stay warm. Not bounded: callers bound the requests in flight (`limitConcurrency`), and
 * each request takes an idle connection or opens one. Idle connections do not keep the process
 * alive, and close when the server closes them.
 */
export class Http1ConnectionPool {
  private readonly host: string;
  private readonly port: number;
  private readonly idle: Http1Connection[] = [];
  private readonly open = new Set<Http1Connection>();
  private readonly events = {
    reusable: (connection: Http1Connection) => {
      connection.setActive(false);
      this.idle.push(connection);
    },
    closed: (connection: Http1Connection) => {
      this.open.delete(connection);
    },
  };

  constructor(
    private readonly url: URL,
    /** Extra TLS options for `https:` (e.g. `ca`); the system's trusted CAs apply otherwise. */
    private readonly tlsOptions: tls.ConnectionOptions = {},
  ) {
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  }

  /** Open connections (idle and busy). */
  get size(): number {
    return this.open.size;
  }

  /** A connection for one exchange: an idle one still open, else a new one (connecting in the background). */
  acquire(): Http1Connection {
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.usable) {
        connection.setActive(true);
        return connection;
      }
    }
    const socket =
      this.url.protocol === 'https:'
        ? tls.connect({
            host: this.host,
            port: this.port,
            servername: net.isIP(this.host) ? undefined : this.host,
            ALPNProtocols: ['http/1.1'],
            ...this.tlsOptions,
          })
        : net.connect({ host: this.host, port: this.port });
    socket.setKeepAlive(true, 1000);
    const connection = new Http1Connection(socket, this.events);
    this.open.add(connection);
    return connection;
  }

  /** Closes every connection; exchanges still running resolve as connection failures. Later `acquire`s open new ones. */
  close(): void {
    for (const connection of this.open) connection.destroy();
    this.open.clear();
    this.idle.length = 0;
  }
}
