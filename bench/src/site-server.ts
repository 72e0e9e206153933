import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from '@kbflow/testing';

/** A static site served by a process of its own. */
export interface SiteProcess {
  url: string;
  close: () => Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 from a child process (startStaticServer from
 * @kbflow/testing), so that serving pages never competes for the event loop
 * with a crawler running in the benchmark process (Crawlee), just as it does
 * not compete with kbflow's scraper process.
 */
export async function startSiteProcess(root: string): Promise<SiteProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', root], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the site server exited with ${code}`)));
  });
  return {
    url,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[2] === '--serve' && process.send) {
  const site = await startStaticServer(process.argv[3]!);
  process.send({ url: site.url });
  process.once('SIGTERM', () => void site.close().then(() => process.exit(0)));
  process.once('disconnect', () => void site.close().then(() => process.exit(0)));
}
