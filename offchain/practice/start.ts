/** What a practice margin account starts with, in whole tokens: cash, and of every listed security. */
export const PRACTICE_START_WHOLE = { cash: 100_000n, security: 1_000n } as const;
