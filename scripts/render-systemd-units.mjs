// Writes systemd/*.service and systemd/*.timer: the unit templates of
// src/adapters/systemd/units.ts rendered with DEFAULT_UNIT_OPTIONS. Run it after changing them:
//
//   npm run build && node scripts/render-systemd-units.mjs
//
// test/adapters/systemd.test.ts fails while the committed files and the templates differ.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_UNIT_OPTIONS, renderUnits } from '../dist/adapters/systemd/units.js';

const dir = path.resolve(import.meta.dirname, '..', 'systemd');
for (const unit of renderUnits(DEFAULT_UNIT_OPTIONS)) {
  writeFileSync(path.join(dir, unit.name), unit.text);
  console.log(`wrote ${path.join('systemd', unit.name)}`);
}
