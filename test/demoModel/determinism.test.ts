import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildDemoModels, sha256 } from '../../scripts/demoModel/build.ts';
import { DEMO_DIR } from './demoModelOrt.ts';

interface Manifest {
  name: string;
  algorithm: string;
  files: Record<string, string>;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory()
        ? listFiles(full)
        : [relative(DEMO_DIR, full).split('\\').join('/')];
    });
}

describe('demo model determinism', () => {
  const manifest = JSON.parse(readFileSync(join(DEMO_DIR, 'MANIFEST.json'), 'utf8')) as Manifest;

  it('committed files match MANIFEST.json, with nothing missing or extra', () => {
    const onDisk = listFiles(DEMO_DIR).filter((f) => f !== 'MANIFEST.json');
    expect(onDisk).toEqual(Object.keys(manifest.files).sort());
    for (const [rel, hash] of Object.entries(manifest.files)) {
      expect(sha256(readFileSync(join(DEMO_DIR, rel))), rel).toBe(hash);
    }
  });

  it('stays within the size budget', () => {
    const total = listFiles(DEMO_DIR).reduce((sum, rel) => sum + statSync(join(DEMO_DIR, rel)).size, 0);
    expect(total).toBeLessThan(20 * 1024 * 1024);
  });

  it('a fresh build reproduces every committed byte', { timeout: 120_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'deltascope-demo-'));
    try {
      const result = buildDemoModels(out);
      expect(result.files).toEqual(manifest.files);
      expect(readFileSync(join(out, 'MANIFEST.json'))).toEqual(readFileSync(join(DEMO_DIR, 'MANIFEST.json')));
      for (const rel of Object.keys(manifest.files)) {
        expect(readFileSync(join(out, rel)).equals(readFileSync(join(DEMO_DIR, rel))), rel).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
