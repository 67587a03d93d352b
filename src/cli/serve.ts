/**
 * `artifactd serve`: opens the store, listens, and closes the store cleanly on SIGINT/SIGTERM
 * (in-flight requests finish first).
 */
import { createApp } from '../app.ts';
import type { Config } from '../config.ts';
import { Store } from '../store/store.ts';

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export function startServer(config: Config): RunningServer {
  const store = Store.open(config.dataDir);
  const app = createApp(store, config);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port,
      // Bodies that declare their size get a JSON 413 from the app; this stops ones that do not.
      maxRequestBodySize: config.maxBodyBytes + 64 * 1024,
      fetch: (request) => app.handle(request),
    });
  } catch (error) {
    void store.close();
    throw error;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${server.port}`,
    async stop() {
      await server.stop(false); // let in-flight requests finish
      await store.close();
    },
  };
}

export async function serve(config: Config): Promise<void> {
  const running = startServer(config);
  console.log(`artifactd serving the Prefect API at ${running.url}/api (docs: ${running.url}/docs, data: ${config.dataDir})`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`artifactd: ${signal} received, closing the store`);
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
