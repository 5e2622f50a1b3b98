// Moved to fixtures/legalSeed.ts (shared with the benchmarks); kept here for the tests.
export * from "../../../../fixtures/legalSeed";
