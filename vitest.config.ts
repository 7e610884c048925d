import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // .test.tsx: component tests (each opts into jsdom with a `@vitest-environment jsdom` comment).
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 30_000,
    // Model tests load ONNX sessions; two cores do not gain from more than two workers.
    maxWorkers: 2,
  },
});
