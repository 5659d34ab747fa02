/**
 * For tests that contact the internet (their names say "network"): why they cannot run here, so
 * they skip cleanly offline instead of failing or waiting for long timeouts.
 */
import * as net from 'node:net';

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'npm_config_proxy', 'npm_config_https_proxy'];

/** Undefined when a TCP connection to host:port opens within `ms` (or a proxy is configured, which the tools use); else the reason. */
export async function offlineReason(host: string, port = 443, ms = 5000): Promise<string | undefined> {
  if (PROXY_VARIABLES.some((name) => process.env[name])) return undefined;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (reason: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`offline: no connection to ${host}:${port} within ${ms / 1000} s`), ms);
    socket.once('connect', () => done(undefined));
    socket.once('error', (error) => done(`offline: ${host}:${port} unreachable (${(error as NodeJS.ErrnoException).code ?? error.message})`));
  });
}
