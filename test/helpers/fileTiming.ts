import { appendFileSync } from "node:fs";

/**
 * Loaded first by `npm test` in each service group (scripts/test.ts): after every test, one JSON line (the test's
 * file and the time) to MB_TEST_TIMING_FILE. The files of a group run one after another, so a file's duration is
 * the time from the previous file's last test to its own last test; scripts/test.ts sums them up. Without the
 * variable (a single file run) it records nothing.
 */
const out = process.env.MB_TEST_TIMING_FILE;
if (out) {
  afterEach(function () {
    appendFileSync(out, `${JSON.stringify({ file: this.currentTest?.file ?? "", at: Date.now() })}\n`);
  });
}
