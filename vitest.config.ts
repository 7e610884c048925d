import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    // Model tests load ONNX sessions; two cores do not gain from more than two workers.
    maxWorkers: 2,
  },
});
