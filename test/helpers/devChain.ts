// Moved to fixtures/devChain.ts (shared with the benchmarks); kept here for the tests.
export * from "../../fixtures/devChain";
