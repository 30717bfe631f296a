/** The package's version, as the instrumentation scope of its tracer and meter. Kept equal to package.json's by a test. */
export const VERSION = '0.1.0';
