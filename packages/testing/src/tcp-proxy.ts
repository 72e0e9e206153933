import net from 'node:net';

/**
 * A TCP proxy a test controls, to make one dependency fail for the
 * processes behind it without touching the shared server (PostgreSQL on
 * this machine serves every test). `down()` resets every open connection
 * and refuses new ones (the listening socket is closed, so a connect gets
 * ECONNREFUSED, as from a server that is not running); `up()` listens again
 * on the same port. Hand-written: a forwarder with an off switch is a few
 * lines of `net`, and the proxy packages on npm add HTTP and TLS concerns
 * this does not need.
 */
export interface TcpProxy {
  port: number;
  url: (original: string) => string;
  /** Drops every connection and refuses new ones until {@link up}. */
  down: () => Promise<void>;
  up: () => Promise<void>;
  /** Connections accepted since the start (a test can see the services came back). */
  readonly accepted: number;
  close: () => Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  let listening = true;
  const stop = async () => {
    if (listening) {
      listening = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Reset, not a clean FIN: the peer sees what a crashed server gives it.
        for (const s of sockets) s.resetAndDestroy();
        sockets.clear();
      });
    }
  };
  return {
    port,
    url: (original) => {
      const u = new URL(original);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    down: stop,
    up: async () => {
      if (!listening) {
        await listen(port);
        listening = true;
      }
    },
    get accepted() {
      return accepted;
    },
    close: stop,
  };
}
