import { STEPS } from "./plan";

/**
 * The demo's narration: one line at a time to stdout, and a numbered heading per step ("[n/13] …"). The e2e test
 * reads these lines; every figure in them is read back from the system.
 */
export const say = (line = ""): void => console.log(line);

export const heading = (n: number, text: string): void => say(`\n[${n}/${STEPS.length}] ${text}`);
