/**
 * docker-compose.yml's Redis command, run as compose would run it (no Docker engine here): the
 * password must reach Redis (AUTH required) without appearing on any command line (`ps`), and the
 * AOF settings must be the ones the README describes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../fixtures/run-cli.ts';
import { serviceMissing, servicePath } from '../fixtures/require-service.ts';

const redisMissing = serviceMissing(
  'redis-server',
  'the docker-compose Redis command test (tests/integration/compose-redis-command.test.ts)',
);
const compose = parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: { redis: { command: string[]; healthcheck: { test: string[] } } };
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** Sends inline commands and returns the raw replies once `count` lines arrived. */
const ask = (port: number, lines: string[], count: number) =>
  new Promise<string>((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.on('connect', () => socket.write(lines.map((line) => `${line}\r\n`).join('')));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.split('\r\n').length > count) socket.end();
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });

describe.skipIf(redisMissing)("docker-compose.yml's Redis command", () => {
  let directory: string;
  let redis: ChildProcess | undefined;
  afterAll(async () => {
    redis?.kill('SIGKILL');
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('keeps the password off the command line, requires it, and runs AOF with everysec', async () => {
    const [shell, flag, script] = compose.services.redis.command;
    expect([shell, flag]).toEqual(['sh', '-c']);
    expect(script).not.toMatch(/--requirepass/);
    // Compose would interpolate `${REDIS_PASSWORD}` into the command (and so into `ps`); `$$REDIS_PASSWORD` reaches sh as a variable name.
    expect(JSON.stringify(compose.services.redis.command)).not.toContain('${REDIS_PASSWORD');
    expect(script).toContain('"$$REDIS_PASSWORD"');
    directory = await mkdtemp(join(tmpdir(), 'pf-compose-redis-'));
    // Stand-ins for the image's entrypoint (drops to the redis user, then runs its arguments) and chown.
    await writeFile(join(directory, 'docker-entrypoint.sh'), '#!/bin/sh\nexec "$@"\n');
    await writeFile(join(directory, 'chown'), '#!/bin/sh\nexit 0\n');
    await chmod(join(directory, 'docker-entrypoint.sh'), 0o755);
    await chmod(join(directory, 'chown'), 0o755);
    const port = await freePort();
    const password = 'compose-s3cret-pw';
    // What compose hands to sh: `$$` becomes `$`; this test's own port, directory and binary.
    const command = script
      .replaceAll('$$', '$')
      .replaceAll('/tmp/redis-auth.conf', join(directory, 'auth.conf'))
      .replace('redis-server ', `${servicePath('redis-server')} `)
      .trim()
      .concat(` --port ${port} --bind 127.0.0.1 --dir ${directory} --save ''`);
    redis = spawn('/bin/sh', ['-c', command], {
      env: { PATH: `${directory}:${process.env.PATH}`, REDIS_PASSWORD: password },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let pong = '';
    for (let attempt = 0; attempt < 200 && !pong.includes('PONG'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pong = await ask(port, [`AUTH ${password}`, 'PING'], 2).catch(() => '');
    }
    expect(pong).toContain('+PONG');
    expect(await ask(port, ['PING'], 1)).toMatch(/^-NOAUTH/);

    // The running server's command line (what `ps` shows) holds no password.
    const commandLine = (await readFile(`/proc/${redis.pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    expect(commandLine).toContain('redis-server');
    expect(commandLine).not.toContain(password);
    const config = await ask(port, [`AUTH ${password}`, 'CONFIG GET appendfsync', 'CONFIG GET appendonly'], 9);
    expect(config).toContain('everysec');
    expect(config).toMatch(/appendonly\r\n\$3\r\nyes/);
    expect((await readdir(directory)).some((name) => name.startsWith('appendonly'))).toBe(true);
  });
});
