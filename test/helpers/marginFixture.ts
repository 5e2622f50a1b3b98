// Moved to fixtures/margin.ts (shared with the benchmarks); kept here for the tests.
export * from "../../fixtures/margin";
