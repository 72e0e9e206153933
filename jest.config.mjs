// Two kinds of tests (STYLE.md): `*.test.ts` beside the code, fast and without
// I/O; `*.int.test.ts` against the real Redis, PostgreSQL, browser and service
// processes, run in band because they share one machine's two cores.
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    },
  ],
};

const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/.tools/'],
};

export default {
  // A hook or test that sets no timeout of its own gets 30 s, not jest's 5:
  // creating a migrated database or starting an api takes a few seconds on a
  // loaded 2-core machine. A timeout is a bound on a hang, never an assertion
  // about speed. (A global option: jest ignores it inside a project.)
  testTimeout: 30_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services}/*/src/**/*.test.ts'],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.int\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services}/*/{src,test}/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/packages/testing/src/global-setup.ts',
      globalTeardown: '<rootDir>/packages/testing/src/global-teardown.ts',
      slowTestThreshold: 60,
    },
  ],
};
