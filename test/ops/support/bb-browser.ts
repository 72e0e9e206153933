import { readFile } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium with the flags that work on the build machines (ENVIRONMENT.md). */
export function launchChromium(): Promise<Browser> {
  // Playwright gives every launch a fresh profile of its own and refuses --user-data-dir.
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The width and height a PNG file declares, or undefined when the file is not a PNG. */
export async function pngSize(file: string): Promise<{ width: number; height: number; bytes: number } | undefined> {
  const data = await readFile(file);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // The first chunk of every PNG is IHDR: width and height as big-endian 32-bit integers.
  if (data.length < 24 || !data.subarray(0, 8).equals(signature) || data.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: data.length };
}
