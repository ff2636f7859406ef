// What the journal gauges read from a SQLite store: bytes on disk of the database file with its
// write-ahead log (two stat calls per scrape; the WAL holds recent journal rows until a checkpoint
// folds them into the file, so the sum is what the state takes on disk). A file that is not there
// takes no bytes.
import { statSync } from 'node:fs';
import path from 'node:path';
import { DB_FILE } from '../store/sqlite/open.js';

const bytesOf = (file: string): number => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

export function sqliteDatabaseBytes(stateDir: string): () => number {
  const file = path.join(stateDir, DB_FILE);
  return () => bytesOf(file) + bytesOf(`${file}-wal`);
}
