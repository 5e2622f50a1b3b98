// Moved to fixtures/keeperChain.ts (shared with the benchmarks); kept here for the tests.
export * from "../../fixtures/keeperChain";
