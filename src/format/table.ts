// Plain-text tables for the terminal: columns padded to their widest cell.

/** Rows of cells, the first row the header; `rule` draws a line under the header. */
export function renderTable(rows: readonly (readonly string[])[], opts: { rule?: boolean } = {}): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  if (opts.rule) lines.splice(1, 0, widths.map((w) => '─'.repeat(w)).join('  '));
  return lines.join('\n');
}
