// Moved to fixtures/settlement.ts (shared with the benchmarks); kept here for the tests.
export * from "../../fixtures/settlement";
