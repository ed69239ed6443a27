import type { Socket } from 'node:net';
import { HTTPParser } from 'http-parser-js';

/** Reply headers: names lower-cased, repeated headers joined with ", ". */
export type HttpHeaders = Readonly<Record<string, string>>;

/** What one request on a connection came to. Never an exception. */
export type HttpExchangeResult =
  | { kind: 'reply'; status: number; headers: HttpHeaders; body: Buffer }
  /** The connection failed, or closed before the first byte of the reply (ECONNREFUSED, ECONNRESET, ...). */
  | { kind: 'connection'; error: Error }
  /** The reply began but the connection broke before its end, or the bytes were not valid HTTP/1.x. */
  | { kind: 'broken'; detail: string; headers: HttpHeaders | undefined };

/**
 * One keep-alive HTTP/1.1 client connection: writes a request, parses the reply with
 * `http-parser-js` (status line, headers, Content-Length, chunked or read-until-close bodies,
 * 1xx skipped) and resolves with the whole body. One exchange at a time; after a reply the server
 * lets us keep, the connection hands itself back through `events.reusable`, otherwise it closes.
 */
export class Http1Connection {
  private readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  private settle: ((result: HttpExchangeResult) => void) | undefined;
  private status = 0;
  private headers: HttpHeaders | undefined;
  private chunks: Buffer[] = [];
  /** Bytes of the current reply have arrived (a close is then a cut-off, not a connection failure). */
  private started = false;
  /** The server allows another request on this connection after the current reply. */
  private keepAlive = false;
  /** The current exchange got its whole reply and the server allows reuse. */
  private reusable = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly events: {
      /** The reply is complete and the server keeps the connection open: it may carry another request. */
      reusable: (connection: Http1Connection) => void;
      /** The socket closed (any reason). */
      closed: (connection: Http1Connection) => void;
    },
  ) {
    socket.setNoDelay(true);
    this.parser[HTTPParser.kOnHeadersComplete] = (info: ReplyHead) => this.onHeaders(info);
    this.parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
      this.chunks.push(chunk);
    };
    this.parser[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (error: Error) => this.onClosed(error));
    socket.on('close', () => this.onClosed(undefined));
  }

  /** False once the socket closed or failed; such a connection must not be reused. */
  get usable(): boolean {
    return !this.closed && !this.settle;
  }

  /** Keeps (or stops keeping) the process alive for this socket: idle connections do not. */
  setActive(active: boolean): void {
    if (active) this.socket.ref();
    else this.socket.unref();
  }

  /**
   * Sends `request` (request line, headers, blank line and body, as one UTF-8 string: one write
   * system call, no intermediate buffer) and resolves with the reply.
   */
  exchange(request: string): Promise<HttpExchangeResult> {
    if (!this.usable) return Promise.resolve({ kind: 'connection', error: new Error('connection is closed or busy') });
    this.status = 0;
    this.headers = undefined;
    this.chunks = [];
    this.started = false;
    this.keepAlive = false;
    this.reusable = false;
    const result = new Promise<HttpExchangeResult>((resolve) => (this.settle = resolve));
    this.socket.write(request);
    return result;
  }

  /** Closes the socket; a running exchange resolves as a connection failure (callers that timed out ignore it). */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    if (!this.settle) {
      // Bytes nobody asked for: the stream is out of step, so it cannot be reused.
      this.socket.destroy();
      return;
    }
    this.started = true;
    const parsed = this.parser.execute(data);
    if (parsed instanceof Error) {
      this.finish({ kind: 'broken', detail: `not a valid HTTP reply (${parsed.message})`, headers: this.headers });
      this.socket.destroy();
      return;
    }
    if (this.reusable) {
      this.reusable = false;
      const settle = this.settle;
      this.settle = undefined;
      this.events.reusable(this);
      settle({ kind: 'reply', status: this.status, headers: this.headers ?? {}, body: this.body() });
    }
  }

  private onHeaders(info: ReplyHead): void {
    // 1xx replies (100 Continue, 103 Early Hints) come before the real one: skip them.
    if (info.statusCode < 200) return;
    this.status = info.statusCode;
    this.headers = headerRecord(info.headers);
    this.keepAlive = info.shouldKeepAlive;
  }

  private onMessageComplete(): void {
    if (this.status === 0) return; // the end of a 1xx reply
    if (!this.keepAlive || !this.settle) {
      this.finish({ kind: 'reply', status: this.status, headers: this.headers ?? {}, body: this.body() });
      this.socket.destroy();
      return;
    }
    // Handed back after `execute` returns, so nothing else runs on this socket mid-parse.
    this.reusable = true;
  }

  private onClosed(error: Error | undefined): void {
    if (!this.closed) this.events.closed(this);
    this.closed = true;
    if (!this.settle) return;
    // A reply without Content-Length or chunking ends when the server closes: `finish` completes it.
    if (this.started && error === undefined) this.parser.finish();
    if (!this.settle) return;
    if (this.started) {
      this.finish({ kind: 'broken', detail: 'the reply body was cut off', headers: this.headers });
    } else {
      this.finish({ kind: 'connection', error: error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    }
  }

  private finish(result: HttpExchangeResult): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(result);
  }

  private body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }
}

/** The part of http-parser-js's header info we read (its `HeaderInfo` type is not exported). */
interface ReplyHead {
  statusCode: number;
  headers: string[];
  shouldKeepAlive: boolean;
}

/** `[name, value, name, value, ...]` as the parser gives them -> a record with lower-cased names. */
function headerRecord(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let index = 0; index < flat.length; index += 2) {
    const name = flat[index].toLowerCase();
    const value = flat[index + 1];
    record[name] = name in record ? `${record[name]}, ${value}` : value;
  }
  return record;
}
