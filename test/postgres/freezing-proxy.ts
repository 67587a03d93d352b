/**
 * A loopback TCP proxy for the tests that simulates a network partition to PostgreSQL (or a
 * frozen database host) without closing anything.
 */
import type { Socket } from 'bun';

interface Conn {
  upstream?: Socket<unknown>;
  pending: Uint8Array[];
}

/**
 * A TCP proxy on 127.0.0.1 (an ephemeral `port`) to `target` that can stop answering:
 * `freeze()` drops every byte both ways and leaves new connections accepted but unanswered;
 * `thaw()` resets every connection still open, client and upstream sides (as a healed
 * partition leaves them), and forwards again; `stop()` thaws and closes the listener.
 */
export function freezingProxy(target: { hostname: string; port: number }) {
  let frozen = false;
  /** Every socket of the proxy's, both sides, from its open until its close. */
  const sockets = new Set<Socket<unknown>>();
  const listener = Bun.listen<Conn>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(client) {
        client.data = { pending: [] };
        sockets.add(client as Socket<unknown>);
        if (frozen) return; // accepted, never answered
        void Bun.connect({
          ...target,
          socket: {
            open(upstream) {
              sockets.add(upstream);
              client.data.upstream = upstream;
              for (const chunk of client.data.pending) upstream.write(chunk);
              client.data.pending = [];
            },
            data(_upstream, chunk) {
              if (!frozen) client.write(chunk);
            },
            close(upstream) {
              sockets.delete(upstream);
              if (!frozen) client.end();
            },
            error() {},
          },
        }).catch(() => client.end());
      },
      data(client, chunk) {
        if (frozen) return;
        if (client.data.upstream) client.data.upstream.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        sockets.delete(client as Socket<unknown>);
        client.data.upstream?.end();
      },
      error() {},
    },
  });
  function thaw() {
    for (const socket of [...sockets]) socket.terminate();
    sockets.clear();
    frozen = false;
  }
  return {
    port: listener.port,
    freeze() {
      frozen = true;
    },
    thaw,
    stop() {
      thaw();
      listener.stop(true);
    },
  };
}
