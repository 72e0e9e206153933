import path from 'node:path';

/** The repository root (three levels above this file). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

/** `../shared/data` beside the repository: real data to test with, never copied in. */
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');
