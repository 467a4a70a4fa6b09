import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeFixtures } from './fixtures/make';

export default function setup(): void {
  makeFixtures();
  if (!existsSync(join(__dirname, '..', 'out', 'cli', 'tessera.cjs'))) {
    throw new Error('the CLI is not built: run `npm run build` (npm test does) before vitest');
  }
}
