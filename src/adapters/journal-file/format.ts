// An exported journal: one JSON document per line, self-contained, to attach to a bug report.
//   line 1    {"lanekeeper_journal": 1, "exported_at", "first_seq", "last_seq", "machines"}
//   line 2    {"checkpoint": {...}}   only when the export begins at a checkpoint, not at a run's start
//   then      {"event": {...}, "effects": [intent, …], "changed": {laneId: path} | null}  per event
// It holds no prompts, commands or environment (the journal never had them); task titles, file
// names and failure reasons are in it.

export const JOURNAL_FILE_VERSION = 1;

export interface JournalFileHeader {
  lanekeeper_journal: number;
  exported_at: string;
  first_seq: number;
  last_seq: number;
  /** The machines' version of the lanekeeper that exported it. */
  machines: string;
}
