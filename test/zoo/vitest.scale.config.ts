import { defineConfig } from 'vitest/config';

/** `npm run test:scale`: the slow 135M-scale test, outside `npm test`. */
export default defineConfig({
  test: {
    include: ['test/zoo/**/*.scale.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
});
